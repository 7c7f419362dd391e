/// One frame of the UI: the cells, and the sixel images to place over them.
public struct RenderedFrame: Equatable, Sendable {
    public var grid: CellGrid
    public var images: [ImagePlacement]

    public init(grid: CellGrid, images: [ImagePlacement] = []) {
        self.grid = grid
        self.images = images
    }
}
