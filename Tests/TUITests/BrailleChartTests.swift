import Testing
import TUI

@Suite("BrailleChart draws known data exactly")
struct BrailleChartTests {
    func plot(_ values: [Double], width: Int, height: Int, style: BrailleChart.Style = .braille, axes: Bool = false,
              range: ClosedRange<Double>? = nil, cursor: Int? = nil) -> CellGrid {
        var grid = CellGrid(size: Size(width: width, height: height))
        BrailleChart(values: values, yRange: range, cursor: cursor, style: style, showAxes: axes, glyphs: style == .ascii ? .ascii : .unicode)
            .render(into: &grid, rect: grid.bounds)
        return grid
    }

    @Test func aRisingLineUsesOneDotPerValue() {
        // Four values in 2x1 cells: 4x4 dots, (x, y from the top) = (0,3) (1,2) (2,1) (3,0).
        // Left cell: dots 7 (0x40) and 6 (0x20) -> U+2860; right cell: dots 2 (0x02) and 4 (0x08) -> U+280A.
        #expect(plot([0, 1, 2, 3], width: 2, height: 1).text == "\u{2860}\u{280A}")
    }

    @Test func flatDataSitsInTheMiddleAndGapsStayEmpty() {
        // 0...1 over 4 rows of dots: 0.5 rounds to level 2 from the bottom, dot row 1.
        #expect(plot([0.5, 0.5], width: 1, height: 1, range: 0...1).text == "\u{2812}")
        let gap = plot([1, .nan, .nan, 1], width: 2, height: 1, range: 0...1)
        #expect(gap.text == "\u{2801}\u{2808}")
    }

    @Test func steepSegmentsHaveNoHoles() {
        // From the bottom to the top in one column step: the first column has its point at row 3
        // (dot 7, 0x40), the second fills rows 0-2 down to it (dots 4, 5, 6: 0x38).
        #expect(plot([0, 1], width: 1, height: 1, range: 0...1).text == "\u{2878}")
    }

    @Test func manyPointsShowEachColumnsMinAndMax() {
        // 8 values into 2 dot columns: each column spans its values' range.
        let g = plot([0, 1, 0, 1, 0, 0, 0, 0], width: 1, height: 1, range: 0...1)
        // Column 0 spans rows 0-3 (dots 1,2,3,7), column 1 sits at the bottom (dot 8).
        #expect(g.text == "\u{28C7}")
    }

    @Test func axesShowRangeIndicesAndCursorValue() {
        let g = plot([0, 1, 2, 3, 4, 5, 6, 7], width: 20, height: 5, axes: true, cursor: 3)
        #expect(g.text == """
            7┤            ⣀⣀⠤⠤⠒⠉
             │      ⣀⠤⠤⠒⠒⠉
            0┤⣀⠤⠒⠒⠉⠉
             └──────────────────
              0      3: 3      7
            """)
        // Eight values over 36 dot columns sit every 5 dots; index 3 is dot 15, in cell 7 of the
        // plot (which starts after "7┤"). That column is highlighted.
        #expect(g[2 + 7, 0].background == .indexed(238))
        #expect(g[2 + 6, 0].background == .standard)
    }

    @Test func asciiAndBlockFallbacks() {
        #expect(plot([0, 1, 2, 3], width: 4, height: 4, style: .ascii).text == "   *\n  *\n *\n*")
        #expect(plot([0, 3], width: 2, height: 1, style: .blocks, range: 0...3).text == "▁█")
    }
}
