import Engine

/// Draws an image as characters of increasing ink, one per cell, for terminals without Unicode
/// (or when asked with `--images ascii`). With colour, each character also takes its cell's colour.
public struct AsciiRenderer: Sendable {
    /// From dark to bright: on a dark background more ink reads as brighter.
    public static let ramp: [Character] = Array(" .:-=+*#%@")

    public var colorLevel: ColorLevel

    public init(colorLevel: ColorLevel = .monochrome) {
        self.colorLevel = colorLevel
    }

    /// The cells the image occupies: one cell per column, and per two rows' worth of height, since
    /// a cell is about twice as tall as wide.
    public func placement(imageWidth: Int, imageHeight: Int, in rect: Rect) -> Rect {
        let units = ImageFit.fitted(width: imageWidth, height: imageHeight, into: Size(width: rect.width, height: rect.height * 2))
        return rect.centered(Size(width: units.width, height: max(1, (units.height + 1) / 2)))
    }

    @discardableResult
    public func render(_ image: RGBImage, into grid: inout CellGrid, rect: Rect) -> Rect {
        let cells = placement(imageWidth: image.width, imageHeight: image.height, in: rect)
        guard !cells.isEmpty, image.width > 0, image.height > 0 else { return .init(x: rect.x, y: rect.y, width: 0, height: 0) }
        let scaled = AreaResampler.resize(image, width: cells.width, height: cells.height, enlarging: .nearest)
        for y in 0..<cells.height {
            for x in 0..<cells.width {
                let i = (y * cells.width + x) * 3
                let r = scaled.pixels[i], g = scaled.pixels[i + 1], b = scaled.pixels[i + 2]
                let character = Self.character(forLuma: Self.luma(r, g, b))
                var style = CellStyle.plain
                if colorLevel > .monochrome { style.foreground = colorLevel.resolve(.rgb(r, g, b)) }
                grid[cells.x + x, cells.y + y] = Cell(String(character), style: style)
            }
        }
        return cells
    }

    /// Rec. 601 luma, 0-255.
    public static func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int {
        (299 * Int(r) + 587 * Int(g) + 114 * Int(b) + 500) / 1000
    }

    public static func character(forLuma luma: Int) -> Character {
        ramp[min(ramp.count - 1, max(0, luma) * ramp.count / 256)]
    }
}
