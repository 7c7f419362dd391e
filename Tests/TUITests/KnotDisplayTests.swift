import Engine
import Foundation
import Testing
import TestSupport
import TUI

/// The scene method's knots on screen: a ◆ on the timeline's scene strip in the column of each knot
/// (at any zoom), and on the scrubber's track at the knot's t when it runs along the scene's path;
/// the knots come from the session's saved pieces, without a scene's own first frame.
@Suite("Knots on the timeline and the scrubber")
struct KnotDisplayTests {
    var sample: AppState {
        var s = AppState.sample(size: Size(width: 100, height: 30))  // 240 frames, cuts at 60, 130 (dissolve 126-134), 190
        s.knots = [100, 160]
        return s
    }

    /// The strip column showing `frame` of `window` (a column shows frames from c·n/width on).
    func column(_ frame: Int, _ window: Range<Int>, width: Int) -> Int {
        (0..<width).first { ($0 + 1) * window.count / width > frame - window.lowerBound } ?? width - 1
    }

    /// The columns of the scene strip that hold a knot glyph.
    func knotColumns(_ s: AppState) -> [Int] {
        let frame = AppView(capabilities: .standard).render(s)
        let g = TimelinePane.Geometry(box: AppLayout(size: s.size).timeline)
        return (0..<g.data.width).filter { frame.grid[g.strip.x + $0, g.strip.y].character == "◆" }
    }

    @Test func timelineMarksEachKnotsColumn() {
        var s = sample
        let width = TimelinePaneColumns.width(s)
        #expect(knotColumns(s) == [column(100, 0..<240, width: width), column(160, 0..<240, width: width)])
        // Zoomed in on the second scene (60..<130 with its neighbours' edges): its knot moves with the zoom.
        s.cursor = 100
        s.timelineSpan = 80
        let window = s.timelineWindow
        #expect(window.contains(100) && !window.contains(160))
        #expect(knotColumns(s) == [column(100, window, width: width)])
        s.knots = []
        #expect(knotColumns(s).isEmpty)
    }

    @Test func scrubberMarksTheKnotAlongTheScenesPath() {
        var s = sample
        s.cursor = 70
        s.mode = .interpolate
        // The scene 60..<130 runs from frame 60 to 129: the knot at 100 sits at t = 40 / 69.
        #expect(s.knotPositions(from: 60, to: 129) == [40.0 / 69.0])
        #expect(s.knotPositions(from: 129, to: 60) == [29.0 / 69.0])
        let slider = PreviewPane.slider(state: s, glyphs: .unicode)
        #expect(slider.marks == [40.0 / 69.0])
        let frame = AppView(capabilities: .standard).render(s)
        let track = PreviewPane.sliderTrack(state: s, box: AppLayout(size: s.size).preview)
        let row = (0..<track.width).map { frame.grid[track.x + $0, track.y].character }
        #expect(row.filter { $0 == "◆" }.count == 1, "\(row.joined())")
        // Pinned ends make a straight line: no knot on it.
        s.interpolation.pinnedStart = 60
        #expect(PreviewPane.slider(state: s, glyphs: .unicode).marks.isEmpty)
    }

    @Test func knotsAreThePieceStartsAfterAScenesFirstFrame() {
        let cuts = [SceneCut(frame: 10, fps: 25), SceneCut(frame: 20, time: 0.8, kind: .dissolve, score: 1, span: 18...23)]
        // Pieces start at each scene's first frame (0, 10) or first clean frame (24), and at knots 5, 14.
        #expect(AppEngine.knots([0, 5, 10, 14, 24], cuts: cuts, frames: 40) == [5, 14])
    }
}
