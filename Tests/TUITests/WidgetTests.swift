import Foundation
import Testing
import TUI

@Suite("Widgets: slider, status bar, progress bar, heat row, help")
struct WidgetTests {
    func draw(_ size: Size, _ body: (inout CellGrid) -> Void) -> CellGrid {
        var grid = CellGrid(size: size)
        body(&grid)
        return grid
    }

    @Test func sliderInsideTheRange() {
        let g = draw(Size(width: 60, height: 2)) { Slider(value: 0.5).render(into: &$0, rect: $0.bounds) }
        #expect(g.text == """
            t  ┄┄┄┄┄├─────────●────────┤┄┄┄┄┄  t = 0.50
                    0                  1
            """)
    }

    @Test func sliderExtrapolatesPastTheEnds() {
        let slider = Slider(value: 1.8)
        #expect(slider.isExtrapolating)
        #expect(slider.shownRange == -0.25...1.8)
        let g = draw(Size(width: 60, height: 2)) { slider.render(into: &$0, rect: $0.bounds) }
        #expect(g.rowText(0) == "t  ┄┄┄┄├─────────────┤┄┄┄┄┄┄┄┄┄┄●  t = 1.80 (extrapolating)")
        let below = draw(Size(width: 60, height: 1)) { Slider(value: -1, glyphs: .ascii).render(into: &$0, rect: $0.bounds) }
        #expect(below.rowText(0) == "t  O............|------------|...  t = -1.00 (extrapolating)")
        // A click maps back to a value on the shown track.
        let track = slider.trackRect(in: Rect(x: 0, y: 0, width: 60, height: 2))
        // lower + (upper - lower) * column / (width - 1) in Double at the last column: ~1e-16 off;
        // one column off would be ~0.04. 1e-9 only absorbs the rounding.
        #expect(abs(slider.value(atColumn: track.width - 1, trackWidth: track.width) - 1.8) < 1e-9)
    }

    @Test func statusBarDropsHintsThatDoNotFitAndShowsTheMessage() {
        let hints = [KeyHint("q", "quit"), KeyHint("?", "help"), KeyHint("Tab", "pane")]
        let g = draw(Size(width: 30, height: 1)) { StatusBar(hints: hints, message: "saved").render(into: &$0, rect: $0.bounds) }
        #expect(g.rowText(0) == " q quit  ? help         saved")
        #expect(g[1, 0].attributes.contains(.bold))
    }

    @Test func commandLineProgressKnownAndUnknownTotals() {
        // stderr of a test run is no terminal: nothing is drawn, but the line is still composed.
        let known = CommandLineProgress(total: 8, label: "invert", unit: "it")
        known.advance(by: 2, detail: "frame 1 loss 0.5")
        #expect(known.line().hasPrefix("invert ["))
        #expect(known.line().contains("25%"))
        #expect(known.line().hasSuffix("frame 1 loss 0.5"))
        let unknown = CommandLineProgress(total: nil, label: "detect", unit: "frames")
        unknown.update(completed: 120)
        #expect(unknown.line() == "detect 120 frames")
        // A zero total is an unknown one, not a division by zero.
        #expect(!CommandLineProgress(total: 0, label: "x").line().contains("%"))
    }

    /// Not a terminal (a batch job's log): plain lines, at each milestone and at the interval, with
    /// done / total, rate, ETA and what is being worked on; no control characters; a last line.
    @Test func commandLineProgressWritesLogLinesWhenNotATerminal() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let log = CommandLineProgress(total: 10, label: "scene", unit: "it", fd: fds[1], logInterval: 3600)
        log.advance(by: 3, detail: "frame 2")
        log.milestone("scene 2 of 4 (frames 10-19): starting")
        log.advance(by: 2)
        log.finish()
        let hourly = CommandLineProgress(total: nil, label: "detect", unit: "frames", fd: fds[1], logInterval: 0.000_001)
        hourly.update(completed: 5)
        close(fds[1])
        var bytes = [UInt8](repeating: 0, count: 4096)
        let n = read(fds[0], &bytes, bytes.count)
        let text = String(decoding: bytes.prefix(max(n, 0)), as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(lines)")
        #expect(!text.contains("\u{1B}") && !text.contains("\r"))
        #expect(lines[0].hasPrefix("scene: 3/10 it (30%)") && lines[0].contains("elapsed 0:00") && lines[0].hasSuffix("scene 2 of 4 (frames 10-19): starting"), "\(lines[0])")
        #expect(lines[1].hasPrefix("scene: done, 5 it in 0:00"), "\(lines[1])")
        // An interval that has passed writes a line on the next update.
        #expect(lines[2].hasPrefix("detect: 5 frames  "), "\(lines[2])")
    }

    @Test func progressBarLine() {
        let bar = ProgressMeter(completed: 45, total: 100, rate: 12.5, unit: "it")
        #expect(bar.eta == 4.4)
        // 23 cells of bar: 45% is 82.8 eighths, drawn as 10 full cells and a quarter.
        #expect(bar.line(width: 50) == "[██████████▎            ] 45%  12.5 it/s  ETA 0:04")
        #expect(ProgressMeter(completed: 1, total: 4, glyphs: .ascii).line(width: 30) == "[###          ] 25%  ETA --:--")
        #expect(NumberText.duration(3725) == "1:02:05")
        #expect(NumberText.compact(0.000123) == "1.23e-04")
        #expect(NumberText.compact(12.345) == "12.3")
        #expect(NumberText.compact(-0.5) == "-0.5")
    }

    @Test func heatRowTakesEachCellsWorstFrame() {
        let values: [Double] = [0, 0, 1, 0, .nan, .nan]
        let g = draw(Size(width: 3, height: 1)) { HeatRow(values: values, colorLevel: .truecolor).render(into: &$0, rect: $0.bounds) }
        #expect(g[0, 0].background == .rgb(40, 40, 120))   // the ramp's low end
        #expect(g[1, 0].background == .rgb(220, 50, 40))   // frame 2's 1 wins over frame 3's 0
        #expect(g[2, 0].character == "·")                   // no data
        let mono = draw(Size(width: 3, height: 1)) { HeatRow(values: values, colorLevel: .monochrome, glyphs: .ascii).render(into: &$0, rect: $0.bounds) }
        #expect(mono.rowText(0) == ".#.")
    }

    @Test func helpOverlayScrollsWhenShort() {
        let help = HelpOverlay(sections: [.init("A", [KeyHint("x", "one"), KeyHint("yy", "two")]), .init("B", [KeyHint("z", "three")])])
        let tall = draw(Size(width: 30, height: 12)) { help.render(into: &$0, rect: $0.bounds) }
        #expect(tall.text == """

               ┌─ Keys ───────────────┐
               │ A                    │
               │   x   one            │
               │   yy  two            │
               │                      │
               │ B                    │
               │   z   three          │
               │                      │
               │ ? or Esc closes this │
               └──────────────────────┘

            """)
        let short = HelpOverlay(sections: help.sections, scroll: 2)
        // Eight rows leave four for the six lines: two can scroll off.
        #expect(short.maxScroll(in: Rect(x: 0, y: 0, width: 50, height: 8)) == 2)
        let g = draw(Size(width: 50, height: 8)) { short.render(into: &$0, rect: $0.bounds) }
        #expect(g.text == """
              ┌─ Keys ────────────────────────────────────┐
              │   yy  two                                 │
              │                                           │
              │ B                                         │
              │   z   three                               │
              │                                           │
              │ lines 3-6 of 6 · j k scroll · ? Esc close │
              └───────────────────────────────────────────┘
            """)
    }
}
