import Engine

/// Draws an image in a rectangle the way the terminal can: as a sixel placement, in half-blocks,
/// in ASCII, or as a line saying images are off. The one switch over `ImageMode`, so every pane
/// shows images the same way.
public struct ImagePainter: Sendable {
    public var capabilities: TerminalCapabilities

    public init(capabilities: TerminalCapabilities) {
        self.capabilities = capabilities
    }

    /// Draws `image` fitted into `rect`. A sixel image is not drawn into the grid: its cells are
    /// blanked and the placement returned for the terminal to write over them.
    public func paint(_ image: RGBImage, into grid: inout CellGrid, rect: Rect) -> ImagePlacement? {
        guard !rect.isEmpty else { return nil }
        switch capabilities.images {
        case .sixel:
            guard let placement = ImagePlacement.fitting(image, in: rect, cellPixelSize: capabilities.cellPixelSize) else { return nil }
            grid.fill(placement.rect)
            return placement
        case .blocks:
            HalfBlockRenderer(colorLevel: capabilities.colorLevel).render(image, into: &grid, rect: rect)
        case .ascii:
            AsciiRenderer(colorLevel: capabilities.colorLevel).render(image, into: &grid, rect: rect)
        case .none:
            grid.write("(images off)", in: rect.centered(Size(width: min(rect.width, 12), height: 1)), style: .dim, glyphs: capabilities.glyphs)
        }
        return nil
    }
}
