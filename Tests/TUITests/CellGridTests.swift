import Testing
import TUI

@Suite("CellGrid: text, boxes, clipping")
struct CellGridTests {
    @Test func textIsClippedToTheRectangleAndTheGrid() {
        var grid = CellGrid(size: Size(width: 10, height: 3))
        grid.write("hello world", x: 2, y: 0)
        grid.write("clipped text", x: 1, y: 1, clip: Rect(x: 3, y: 1, width: 4, height: 1))
        grid.write("off grid", x: -3, y: 2)
        grid.write("never", x: 0, y: 7)
        // "off grid" from x = -3: "off" falls off the left edge, the space lands in column 0.
        #expect(grid.text == "  hello wo\n   ippe\n grid")
    }

    @Test func boxWithTitleAndFill() {
        var grid = CellGrid(size: Size(width: 16, height: 4))
        grid.fill(Rect(x: 0, y: 0, width: 16, height: 4), character: ".")
        grid.drawBox(Rect(x: 1, y: 0, width: 14, height: 4), title: "a long title")
        #expect(grid.text == """
            .┌─ a long… ──┐.
            .│............│.
            .│............│.
            .└────────────┘.
            """)
        var ascii = CellGrid(size: Size(width: 8, height: 3))
        ascii.drawBox(ascii.bounds, title: "t", glyphs: .ascii)
        #expect(ascii.text == "+- t --+\n|      |\n+------+")
    }

    @Test func alignedTextIsCutWithAnEllipsis() {
        var grid = CellGrid(size: Size(width: 12, height: 3))
        grid.write("right", in: Rect(x: 0, y: 0, width: 12, height: 1), alignment: .right)
        grid.write("mid", in: Rect(x: 0, y: 1, width: 12, height: 1), alignment: .center)
        grid.write("much too long a line", in: Rect(x: 0, y: 2, width: 12, height: 1))
        #expect(grid.text == "       right\n    mid\nmuch too lo…")
    }

    @Test func wideCharactersTakeTwoCellsAndAreNeverHalved() {
        var grid = CellGrid(size: Size(width: 6, height: 2))
        let end = grid.write("a漢b", x: 0, y: 0)
        #expect(end == 4)
        #expect(grid[1, 0].character == "漢")
        #expect(grid[2, 0].isContinuation)
        #expect(grid.rowText(0) == "a漢b")
        // Overwriting the right half blanks the left half.
        grid[2, 0] = Cell("x")
        #expect(grid.rowText(0) == "a xb")
        // A wide character that would straddle the clip edge becomes a space.
        grid.write("ab漢", x: 0, y: 1, clip: Rect(x: 0, y: 1, width: 3, height: 1))
        #expect(grid.rowText(1) == "ab")
        #expect(DisplayWidth.of("漢字") == 4)
        #expect(DisplayWidth.of("é") == 1)
    }

    @Test func restyleKeepsCharacters() {
        var grid = CellGrid(size: Size(width: 4, height: 1))
        grid.write("abcd", x: 0, y: 0)
        grid.restyle(Rect(x: 1, y: 0, width: 2, height: 1)) { $0.attributes.insert(.reverse) }
        #expect(grid.rowText(0) == "abcd")
        #expect(grid[1, 0].attributes == .reverse)
        #expect(grid[0, 0].attributes == [])
    }

    @Test func rectangleHelpersClampInsteadOfTrapping() {
        let r = Rect(x: 2, y: 3, width: 10, height: 4)
        #expect(r.inset(by: 6).isEmpty)
        #expect(r.splitTop(10).rest.height == 0)
        #expect(r.columns(3, gap: 1).map(\.width) == [3, 3, 2])
        #expect(r.centered(Size(width: 4, height: 2)) == Rect(x: 5, y: 4, width: 4, height: 2))
        #expect(r.intersection(Rect(x: 10, y: 0, width: 5, height: 5)) == Rect(x: 10, y: 3, width: 2, height: 2))
    }
}
