/// Raw bytes (a sixel image) the terminal writes at a cell position after ncurses has refreshed,
/// because ncurses knows nothing about pixels. `Terminal.draw` sends an overlay again whenever
/// something repaints its cells, and repaints the cells an overlay leaves, so stale pixels never stay.
public struct TerminalOverlay: Equatable, Sendable {
    /// The cells the image covers; its top-left corner is where the bytes are written.
    public var rect: Rect
    /// The image's size in pixels. An overlay with the same rect and pixel size replaces the old one
    /// in place (it paints every pixel); any other change clears the old one's cells first.
    public var pixelSize: Size
    public var bytes: [UInt8]

    public init(rect: Rect, pixelSize: Size, bytes: [UInt8]) {
        self.rect = rect
        self.pixelSize = pixelSize
        self.bytes = bytes
    }
}
