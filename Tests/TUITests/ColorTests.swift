import Testing
import TUI

@Suite("Colours degrade to what the terminal shows")
struct ColorTests {
    @Test func paletteEntriesMapToThemselves() {
        for i in 16...255 {
            let c = XtermPalette.rgb(ofIndex: UInt8(i))
            #expect(XtermPalette.nearestIndex(r: c.r, g: c.g, b: c.b) == UInt8(i) || XtermPalette.rgb(ofIndex: XtermPalette.nearestIndex(r: c.r, g: c.g, b: c.b)) == c,
                    "index \(i)")
        }
    }

    @Test func levelsResolve() {
        let orange = TerminalColor.rgb(255, 135, 0)
        #expect(ColorLevel.truecolor.resolve(orange) == orange)
        #expect(ColorLevel.ansi256.resolve(orange) == .indexed(208))
        #expect(ColorLevel.ansi8.resolve(orange) == .yellow)
        #expect(ColorLevel.ansi8.resolve(.indexed(9)) == .red)
        #expect(ColorLevel.monochrome.resolve(orange) == .standard)
        #expect(ColorLevel.ansi256.resolve(.rgb(128, 128, 128)) == .indexed(244))
    }
}
