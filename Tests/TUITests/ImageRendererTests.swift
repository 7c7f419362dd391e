import Engine
import Testing
import TUI

@Suite("Images: resampling, half-blocks, ASCII, sixel placement")
struct ImageRendererTests {
    static let twoByTwo = RGBImage(width: 2, height: 2, pixels: [255, 0, 0, 0, 255, 0,
                                                                 0, 0, 255, 255, 255, 255])

    @Test func halfBlocksPutTopPixelsInTheForegroundAndBottomPixelsInTheBackground() {
        var grid = CellGrid(size: Size(width: 2, height: 1))
        let used = HalfBlockRenderer(colorLevel: .truecolor).render(Self.twoByTwo, into: &grid, rect: grid.bounds)
        #expect(used == Rect(x: 0, y: 0, width: 2, height: 1))
        #expect(grid.text == "▀▀")
        #expect(grid[0, 0].style == CellStyle(foreground: .rgb(255, 0, 0), background: .rgb(0, 0, 255)))
        #expect(grid[1, 0].style == CellStyle(foreground: .rgb(0, 255, 0), background: .rgb(255, 255, 255)))

        var indexed = CellGrid(size: Size(width: 2, height: 1))
        HalfBlockRenderer(colorLevel: .ansi256).render(Self.twoByTwo, into: &indexed, rect: indexed.bounds)
        #expect(indexed[0, 0].style == CellStyle(foreground: .indexed(196), background: .indexed(21)))
        #expect(indexed[1, 0].style == CellStyle(foreground: .indexed(46), background: .indexed(231)))
    }

    @Test func halfBlocksKeepTheAspectRatioAndCentre() {
        // A 64x64 frame in 30x10 cells: 20x20 half-block pixels = 20 columns x 10 rows, centred.
        let r = HalfBlockRenderer(colorLevel: .ansi256).placement(imageWidth: 64, imageHeight: 64, in: Rect(x: 0, y: 0, width: 30, height: 10))
        #expect(r.cells == Rect(x: 5, y: 0, width: 20, height: 10))
        // Tiny images are enlarged by nearest neighbour: every pixel is one of the source colours.
        var grid = CellGrid(size: Size(width: 8, height: 4))
        HalfBlockRenderer(colorLevel: .truecolor).render(Self.twoByTwo, into: &grid, rect: grid.bounds)
        // 8x8 half-block pixels: the top image row fills cell rows 0-1, the bottom one rows 2-3.
        #expect(grid[0, 0].foreground == .rgb(255, 0, 0) && grid[3, 1].background == .rgb(255, 0, 0))
        #expect(grid[3, 2].foreground == .rgb(0, 0, 255) && grid[4, 3].background == .rgb(255, 255, 255))
        #expect(grid[7, 0].foreground == .rgb(0, 255, 0))
    }

    @Test func resamplingAveragesAreasWhenShrinking() {
        // 4x1 -> 2x1 averages pairs; 3x1 -> 2x1 weighs the middle pixel half to each side.
        let four = RGBImage(width: 4, height: 1, pixels: [0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255])
        #expect(AreaResampler.resize(four, width: 2, height: 1, enlarging: .nearest).pixels == [50, 50, 50, 228, 228, 228])
        let three = RGBImage(width: 3, height: 1, pixels: [0, 0, 0, 90, 90, 90, 180, 180, 180])
        #expect(AreaResampler.resize(three, width: 2, height: 1, enlarging: .nearest).pixels == [30, 30, 30, 150, 150, 150])
        let up = AreaResampler.resize(Self.twoByTwo, width: 4, height: 4, enlarging: .nearest)
        #expect(Array(up.pixels[0..<12]) == [255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255, 0])
    }

    @Test func asciiUsesTheLuminanceRamp() {
        let gradient = RGBImage(width: 4, height: 2, pixels: [0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255,
                                                              0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255])
        var grid = CellGrid(size: Size(width: 4, height: 1))
        AsciiRenderer().render(gradient, into: &grid, rect: grid.bounds)
        // Lumas 0, 85, 170, 255 on a ten-step ramp: steps 0, 3, 6, 9.
        #expect(grid.text == " -*@")
    }

    @Test func sixelPlacementFitsPixelsIntoCells() throws {
        let frame = RGBImage(width: 64, height: 64)
        // 20x10 cells of 10x20 pixels = 200x200: the image is 200x200, in 20x10 cells.
        let p = try #require(ImagePlacement.fitting(frame, in: Rect(x: 3, y: 2, width: 24, height: 10), cellPixelSize: Size(width: 10, height: 20)))
        #expect(p.rect == Rect(x: 5, y: 2, width: 20, height: 10))
        #expect(p.image.width == 200 && p.image.height == 200)
        var grid = CellGrid(size: Size(width: 30, height: 14), filledWith: Cell("x"))
        let placement = ImagePainter(capabilities: TerminalCapabilities(colorLevel: .ansi256, unicode: true, sixel: true))
            .paint(frame, into: &grid, rect: Rect(x: 3, y: 2, width: 24, height: 10))
        #expect(placement == p)
        #expect(grid[5, 2].character == " " && grid[4, 2].character == "x")
    }
}
