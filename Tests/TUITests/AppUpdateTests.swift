import Engine
import Testing
import TUI

@Suite("AppUpdate: keys change the state, effects say what to do")
struct AppUpdateTests {
    func press(_ keys: [Key], from state: AppState) -> (AppState, [AppEffect]) { pressKeys(keys, from: state) }

    var sample: AppState { AppState.sample(size: Size(width: 80, height: 24)) }

    @Test func arrowsAndVimKeysMoveTheCursorWithinTheClip() {
        let (s, effects) = press([.right, .character("l"), .left], from: sample)
        #expect(s.cursor == 43)
        #expect(effects == [.showFrame(43), .showFrame(44), .showFrame(43)])
        #expect(press([.home, .left], from: sample).0.cursor == 0)
        #expect(press([.character("G"), .right], from: sample).0.cursor == 239)
        // j/k step ten frames in the timeline.
        #expect(press([.character("j"), .character("j"), .character("k")], from: sample).0.cursor == 52)
    }

    @Test func sceneKeysJumpToSceneStarts() {
        // Cuts at 60, 130, 190; the cursor starts at 42.
        #expect(press([.character("L")], from: sample).0.cursor == 60)
        #expect(press([.pageDown, .pageDown], from: sample).0.cursor == 130)
        #expect(press([.character("L"), .character("L"), .character("H")], from: sample).0.cursor == 60)
        #expect(press([.character("L"), .right, .right, .character("H")], from: sample).0.cursor == 60)
        #expect(press([.character("L"), .character("L"), .character("L"), .character("L")], from: sample).0.cursor == 239)
    }

    @Test func tabCyclesPanes() {
        #expect(press([.tab], from: sample).0.focus == .loss)
        #expect(press([.tab, .tab], from: sample).0.focus == .preview)
        #expect(press([.tab, .tab, .tab], from: sample).0.focus == .timeline)
        #expect(press([.backTab], from: sample).0.focus == .preview)
        // j/k in the loss pane switch its scale instead of moving.
        let (s, _) = press([.tab, .character("j")], from: sample)
        #expect(s.logScale && s.cursor == 42)
    }

    @Test func helpOpensClosesAndSwallowsOtherKeys() {
        var (s, _) = press([.character("?")], from: sample)
        #expect(s.showHelp)
        (s, _) = press([.right, .character("c"), .character("j")], from: s)
        #expect(s.cursor == 42 && s.cuts == sample.cuts && s.helpScroll == 1)
        #expect(!press([.escape], from: s).0.showHelp)
        #expect(!press([.character("?")], from: s).0.showHelp)
        let (closed, effects) = press([.character("q")], from: s)
        #expect(!closed.showHelp && !closed.quitRequested && effects.isEmpty)
    }

    @Test func resizeToTooSmallAllowsOnlyQuit() {
        var (s, _) = press([.resize(Size(width: 50, height: 15))], from: sample)
        #expect(s.size == Size(width: 50, height: 15))
        (s, _) = press([.right, .tab, .character("?")], from: s)
        #expect(s.cursor == 42 && s.focus == .timeline && !s.showHelp)
        let (quit, effects) = press([.character("q")], from: s)
        #expect(quit.quitRequested && effects == [.quit])
        #expect(press([.resize(Size(width: 100, height: 30)), .right], from: s).0.cursor == 43)
    }

    @Test func ctrlCQuits() {
        let (s, effects) = press([.interrupt], from: sample)
        #expect(s.quitRequested && effects == [.quit])
    }

    @Test func cutEditsRecordTheScenesTheyTouchAndReRunOnlyThose() {
        // Add a cut at 100 inside the scene 60..<130.
        var s = sample
        s.cursor = 100
        var effects: [AppEffect]
        (s, _) = press([.character("c")], from: s)
        #expect(s.cuts.map(\.frame) == [60, 100, 130, 190])
        #expect(s.cuts[1] == SceneCut(frame: 100, fps: 24))   // a hard cut, timed at the clip's 24 fps
        #expect(s.touchedFrames == [60..<130])
        #expect(s.touchedScenes == [60..<100, 100..<130])
        (s, effects) = press([.character("r")], from: s)
        #expect(effects == [.rerun(scenes: [60..<100, 100..<130])])
        #expect(s.touchedFrames.isEmpty)
        (_, effects) = press([.character("r")], from: s)
        #expect(effects.isEmpty)

        // Move the nearest cut (190) left twice: the scenes on both sides are touched.
        s.cursor = 185
        (s, _) = press([.character("["), .character("[")], from: s)
        #expect(s.cuts.map(\.frame) == [60, 100, 130, 188])
        #expect(s.cursor == 188)
        #expect(s.touchedFrames == [130..<240])

        // A dissolve moves with its span.
        var dissolve = sample
        dissolve.cursor = 131
        (dissolve, _) = press([.character("]")], from: dissolve)
        #expect(dissolve.cuts[1].frame == 131 && dissolve.cuts[1].span == 127...135 && dissolve.cuts[1].kind == .dissolve)

        // Removing the cut at 100 merges its two scenes back.
        s.touchedFrames = []
        s.cursor = 100
        (s, _) = press([.character("c")], from: s)
        #expect(s.cuts.map(\.frame) == [60, 130, 188])
        #expect(s.touchedScenes == [60..<130])
        #expect(s.message == "removed the cut at frame 100")

        // Frame 0 cannot be a cut; a cut cannot move past its neighbour.
        s.cursor = 0
        (s, _) = press([.character("c")], from: s)
        #expect(s.cuts.map(\.frame) == [60, 130, 188])
        s.cursor = 61
        s.cuts = [SceneCut(frame: 60, fps: 24), SceneCut(frame: 61, fps: 24)]
        (s, _) = press([.character("[")], from: s)
        #expect(s.cuts.map(\.frame) == [60, 61] && s.message == "the cut at frame 61 cannot move further")
    }

    @Test func withoutAnyInversionRInvertsEveryScene() {
        var s = AppState(size: Size(width: 80, height: 24))
        s.frameCount = 100
        s.cuts = [SceneCut(frame: 40, fps: 25)]
        let (_, effects) = press([.character("r")], from: s)
        #expect(effects == [.rerun(scenes: [0..<40, 40..<100])])
    }

    @Test func interpolationScrubsTAndAsksForTheLerp() {
        var (s, effects) = press([.character("i")], from: sample)
        #expect(s.mode == .interpolate && s.focus == .preview)
        #expect(effects == [.renderInterpolation(startFrame: 0, endFrame: 59, t: 0.5)])
        (s, effects) = press([.right, .right], from: s)
        #expect(s.interpolation.t == 0.6)
        #expect(effects.last == .renderInterpolation(startFrame: 0, endFrame: 59, t: 0.6))
        // Past 1: extrapolation, in bigger steps.
        (s, _) = press([.character("+"), .character("+"), .right, .right], from: s)
        #expect(s.interpolation.step == 0.25 && s.interpolation.t == 1.0)
        (s, _) = press([.right], from: s)
        #expect(s.interpolation.t == 1.25)
        // Pins change the line's ends.
        s.cursor = 150
        (s, effects) = press([.character("2")], from: s)
        #expect(effects == [.renderInterpolation(startFrame: 130, endFrame: 150, t: 1.25)])
        // Playing advances t with time and loops over [0, 1].
        (s, _) = press([.character("p")], from: s)
        var ticked = AppUpdate.apply(.tick(0.5), to: s)
        // t is a Double moved by a few additions and a wrap of values <= 2: off by ~1e-16, while a
        // wrong rate or wrap is off by >= 0.05; 1e-9 sits safely between.
        #expect(abs(ticked.state.interpolation.t - 0.5) < 1e-9)
        ticked = AppUpdate.apply(.tick(0.2), to: ticked.state)
        #expect(abs(ticked.state.interpolation.t - 0.6) < 1e-9)
        // Esc goes back to browsing and stops playing; ticks then change nothing.
        (s, _) = press([.escape], from: ticked.state)
        #expect(s.mode == .browse && !s.interpolation.playing)
        #expect(AppUpdate.apply(.tick(1), to: s).state == s)
    }

    @Test func clicksMoveTheCursorOrFocusAPane() {
        let layout = AppLayout(size: Size(width: 80, height: 24))
        // The timeline's frame columns start after the border and the 7-column labels.
        let dataX = layout.timeline.x + 1 + 7, dataWidth = layout.timeline.width - 2 - 7
        let column = dataWidth / 2
        var (s, _) = press([.click(x: dataX + column, y: layout.timeline.y + 2)], from: sample)
        #expect(s.cursor == column * 240 / dataWidth)
        (s, _) = press([.click(x: layout.preview.x + 3, y: layout.preview.y + 3)], from: s)
        #expect(s.focus == .preview && s.cursor == column * 240 / dataWidth)
    }
}
