/// The update half of the bubbletea loop: (state, key) -> (state, effects). Pure: no terminal, no
/// engine, no files; effects say what the loop must do outside.
public enum AppUpdate {
    public static func update(_ state: AppState, _ key: Key) -> (state: AppState, effects: [AppEffect]) {
        guard let action = KeyMap.action(for: key, in: state) else { return (state, []) }
        return apply(action, to: state)
    }

    public static func apply(_ action: AppAction, to state: AppState) -> (state: AppState, effects: [AppEffect]) {
        var s = state
        var effects: [AppEffect] = []
        switch action {
        case .tick, .resize: break
        default: s.message = nil   // a key press retires the last note
        }
        switch action {
        case .moveFrame(let d):
            moveCursor(&s, to: s.cursor + d, &effects)
        case .moveScene(let d):
            let scene = s.scene(containing: s.cursor)
            let scenes = s.scenes
            let index = s.sceneIndex(containing: s.cursor)
            if d < 0 {
                let target = s.cursor > scene.lowerBound ? scene.lowerBound : (index > 0 ? scenes[index - 1].lowerBound : 0)
                moveCursor(&s, to: target, &effects)
            } else {
                let target = index + 1 < scenes.count ? scenes[index + 1].lowerBound : s.frameCount - 1
                moveCursor(&s, to: target, &effects)
            }
        case .firstFrame:
            moveCursor(&s, to: 0, &effects)
        case .lastFrame:
            moveCursor(&s, to: s.frameCount - 1, &effects)
        case .moveWithinPane(let d):
            switch s.focus {
            case .timeline: moveCursor(&s, to: s.cursor + 10 * d, &effects)
            case .loss:
                s.logScale.toggle()
                s.message = s.logScale ? "loss on a log scale" : "loss on a linear scale"
            case .preview: s.message = "j k: nothing to scroll in the preview"
            }
        case .nextPane:
            s.focus = s.focus.next
        case .previousPane:
            s.focus = s.focus.previous
        case .focus(let pane):
            s.focus = pane
        case .toggleHelp:
            s.showHelp.toggle()
            s.helpScroll = 0
        case .closeOverlay:
            s.showHelp = false
        case .scrollHelp(let d):
            let help = HelpOverlay(sections: KeyBindings.helpSections(unicode: true))
            s.helpScroll = min(help.maxScroll(in: AppView.helpRect(size: s.size)), max(0, s.helpScroll + d))
        case .resize(let size):
            s.size = size
        case .quit:
            s.quitRequested = true
            s.interpolation.playing = false
            effects.append(.quit)
        case .clickTimeline(let column):
            let geometry = TimelinePane.Geometry(box: AppLayout(size: s.size).timeline)
            s.focus = .timeline
            if let frame = geometry.frame(atColumn: column, window: s.timelineWindow) { moveCursor(&s, to: frame, &effects) }
        case .zoomTimeline(let d):
            s.zoomTimeline(d, columns: TimelinePane.Geometry(box: AppLayout(size: s.size).timeline).data.width)
        case .cycleZoom:
            s.cycleTimelineZoom(columns: TimelinePane.Geometry(box: AppLayout(size: s.size).timeline).data.width)
        case .openGoTo:
            s.goTo = ""
        case .typeGoTo(let c):
            if (s.goTo?.count ?? 0) < 24 { s.goTo = (s.goTo ?? "") + String(c) }
        case .eraseGoTo:
            s.goTo = s.goTo.map { String($0.dropLast()) }
        case .cancelGoTo:
            s.goTo = nil
        case .goTo:
            let text = s.goTo ?? ""
            s.goTo = nil
            if let f = s.frame(goingTo: text), f >= 0, f < s.frameCount {
                moveCursor(&s, to: f, &effects)
                s.message = "frame \(f)"
            } else {
                s.message = "go to: '\(text)' is not a frame (0-\(max(0, s.frameCount - 1))) or a time (83.5s, 1:23, 1:02:03.5)"
            }
        case .clickSlider(let column):
            let track = PreviewPane.sliderTrack(state: s, box: AppLayout(size: s.size).preview)
            let slider = Slider(value: s.interpolation.t)
            setT(&s, slider.value(atColumn: column, trackWidth: track.width), &effects)
        case .toggleCut:
            s.toggleCutAtCursor()
        case .moveCut(let d):
            s.moveNearestCut(by: d)
        case .rerun:
            let touched = s.touchedScenes
            if !touched.isEmpty {
                effects.append(.rerun(scenes: touched))
                s.touchedFrames = []
                s.message = "re-running \(touched.count) scene\(touched.count == 1 ? "" : "s")"
            } else if !s.hasInversion, s.frameCount > 0 {
                effects.append(.rerun(scenes: s.scenes))
                s.message = "inverting all \(s.scenes.count) scenes"
            } else {
                s.message = "no cut edits to re-run"
            }
        case .invertFromCursor:
            guard s.frameCount > 0 else { break }
            effects.append(.invertFrom(frame: s.cursor))
            s.message = "inverting from scene \(s.sceneIndex(containing: s.cursor) + 1) of \(s.scenes.count) onwards, then the scenes before it"
        case .tuneScene:
            guard s.frameCount > 0 else { break }
            let k = s.sceneIndex(containing: s.cursor)
            let scene = s.scenes[k]
            effects.append(.tune(scene: scene))
            s.message = "tuning the generator on scene \(k + 1) (frames \(scene.lowerBound)-\(scene.upperBound - 1))"
        case .chooseMethod:
            effects.append(.chooseMethod)
        case .togglePause:
            effects.append(.togglePause)
        case .export:
            effects.append(.export)
        case .save:
            effects.append(.save)
        case .toggleInterpolation:
            if s.mode == .interpolate {
                s.mode = .browse
                s.interpolation.playing = false
            } else {
                s.mode = .interpolate
                s.focus = .preview
                effects.append(interpolationEffect(s))
            }
        case .scrub(let d):
            let step = s.interpolation.step
            // Snap to the step grid first, so repeated presses land on round values.
            setT(&s, (s.interpolation.t / step).rounded() * step + Double(d) * step, &effects)
        case .changeStep(let d):
            let steps = InterpolationState.steps
            let i = steps.firstIndex { $0 >= s.interpolation.step } ?? steps.count - 1
            s.interpolation.step = steps[min(steps.count - 1, max(0, i + d))]
            s.message = "step \(NumberText.compact(s.interpolation.step))"
        case .togglePlay:
            s.interpolation.playing.toggle()
        case .pinStart:
            s.interpolation.pinnedStart = s.cursor
            s.message = "line starts at frame \(s.cursor)"
            if s.mode == .interpolate { effects.append(interpolationEffect(s)) }
        case .pinEnd:
            s.interpolation.pinnedEnd = s.cursor
            s.message = "line ends at frame \(s.cursor)"
            if s.mode == .interpolate { effects.append(interpolationEffect(s)) }
        case .unpin:
            s.interpolation.pinnedStart = nil
            s.interpolation.pinnedEnd = nil
            s.message = "line follows the scene under the cursor"
            if s.mode == .interpolate { effects.append(interpolationEffect(s)) }
        case .tick(let seconds):
            guard s.mode == .interpolate, s.interpolation.playing else { break }
            var t = s.interpolation.t + seconds * InterpolationState.playSpeed
            if t > 1 || t < 0 { t = t - t.rounded(.down) }   // loop over [0, 1]
            setT(&s, t, &effects)
        }
        return (s, effects)
    }

    /// The frames whose latents the interpolation line joins: the pins, or the scene's first and
    /// last frame.
    public static func interpolationEnds(_ state: AppState) -> (start: Int, end: Int) {
        let scene = state.scene(containing: state.cursor)
        return (state.interpolation.pinnedStart ?? scene.lowerBound, state.interpolation.pinnedEnd ?? max(scene.lowerBound, scene.upperBound - 1))
    }

    static func interpolationEffect(_ s: AppState) -> AppEffect {
        let ends = interpolationEnds(s)
        return .renderInterpolation(startFrame: ends.start, endFrame: ends.end, t: s.interpolation.t)
    }

    private static func setT(_ s: inout AppState, _ t: Double, _ effects: inout [AppEffect]) {
        // Far enough to see what extrapolation does, not so far the generator leaves its domain.
        let clamped = min(3, max(-2, t))
        let rounded = (clamped * 1e6).rounded() / 1e6   // keep float drift out of the display
        guard rounded != s.interpolation.t else { return }
        s.interpolation.t = rounded
        effects.append(interpolationEffect(s))
    }

    private static func moveCursor(_ s: inout AppState, to frame: Int, _ effects: inout [AppEffect]) {
        guard s.frameCount > 0 else { return }
        let clamped = min(s.frameCount - 1, max(0, frame))
        guard clamped != s.cursor else { return }
        let oldScene = s.scene(containing: s.cursor)
        s.cursor = clamped
        effects.append(.showFrame(clamped))
        if s.mode == .interpolate, s.scene(containing: clamped) != oldScene,
           s.interpolation.pinnedStart == nil || s.interpolation.pinnedEnd == nil {
            effects.append(interpolationEffect(s))
        }
    }
}
