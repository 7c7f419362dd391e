import Engine

/// Draws an image with the upper half block `▀`: each cell shows two pixels, the top one as the
/// foreground colour and the bottom one as the background. A cell is about twice as tall as wide,
/// so these pixels are square and the image keeps its aspect ratio.
public struct HalfBlockRenderer: Sendable {
    /// 24-bit colours at `.truecolor`, xterm's 256 below (8 colours look like noise, but work).
    public var colorLevel: ColorLevel

    public init(colorLevel: ColorLevel) {
        self.colorLevel = colorLevel
    }

    /// The cells the image occupies when fitted into `rect`, centred.
    public func placement(imageWidth: Int, imageHeight: Int, in rect: Rect) -> (cells: Rect, pixels: Size) {
        let pixels = ImageFit.fitted(width: imageWidth, height: imageHeight, into: Size(width: rect.width, height: rect.height * 2))
        let cells = rect.centered(Size(width: pixels.width, height: (pixels.height + 1) / 2))
        return (cells, pixels)
    }

    /// Draws `image` fitted into `rect`; returns the cells used.
    @discardableResult
    public func render(_ image: RGBImage, into grid: inout CellGrid, rect: Rect) -> Rect {
        let (cells, pixels) = placement(imageWidth: image.width, imageHeight: image.height, in: rect)
        guard !cells.isEmpty else { return cells }
        let scaled = AreaResampler.resize(image, width: pixels.width, height: pixels.height, enlarging: .nearest)
        for row in 0..<cells.height {
            for x in 0..<cells.width {
                let top = color(scaled, x, row * 2)
                // An odd pixel height leaves the last row's lower half to the terminal's background.
                let bottom = row * 2 + 1 < pixels.height ? color(scaled, x, row * 2 + 1) : .standard
                grid[cells.x + x, cells.y + row] = Cell("▀", style: CellStyle(foreground: top, background: bottom))
            }
        }
        return cells
    }

    private func color(_ image: RGBImage, _ x: Int, _ y: Int) -> TerminalColor {
        let i = (y * image.width + x) * 3
        let c = TerminalColor.rgb(image.pixels[i], image.pixels[i + 1], image.pixels[i + 2])
        return colorLevel >= .truecolor ? c : ColorLevel(rawValue: max(ColorLevel.ansi8.rawValue, colorLevel.rawValue))!.resolve(c)
    }
}
