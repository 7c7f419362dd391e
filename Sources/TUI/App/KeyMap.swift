/// Decodes a key into an action for the state it arrives in: the mode, the help overlay and the
/// too-small screen change what keys mean, and clicks are mapped through the layout.
public enum KeyMap {
    public static func action(for key: Key, in state: AppState) -> AppAction? {
        switch key {
        case .resize(let size): return .resize(size)
        case .interrupt: return .quit
        default: break
        }
        if !state.size.covers(AppLayout.minimumSize) {
            return key == .character("q") ? .quit : nil
        }
        if state.showHelp {
            switch key {
            case .character("?"), .character("q"), .escape, .click: return .closeOverlay
            case .character("j"), .down: return .scrollHelp(1)
            case .character("k"), .up: return .scrollHelp(-1)
            case .pageDown, .character(" "): return .scrollHelp(10)
            case .pageUp: return .scrollHelp(-10)
            default: return nil
            }
        }
        if let text = state.goTo {
            // The go-to prompt takes the keys while it is open.
            switch key {
            case .enter: return .goTo
            case .escape: return .cancelGoTo
            case .backspace, .delete: return text.isEmpty ? .cancelGoTo : .eraseGoTo
            case .character(let c) where c.isNumber || c == ":" || c == "." || c == "s": return .typeGoTo(c)
            default: return nil
            }
        }
        if case .click(let x, let y) = key { return click(x: x, y: y, in: state) }
        if case .wheel(let x, let y, let direction) = key {
            // Over the timeline the wheel zooms: rolled away from the user, closer.
            let timeline = TimelinePane.Geometry(box: AppLayout(size: state.size).timeline)
            return timeline.inner.contains(x: x, y: y) ? .zoomTimeline(-direction) : nil
        }
        switch key {
        case .character("?"): return .toggleHelp
        case .character("q"): return .quit
        case .tab: return .nextPane
        case .backTab: return .previousPane
        case .character("H"), .pageUp: return .moveScene(-1)
        case .character("L"), .pageDown: return .moveScene(1)
        case .home: return .firstFrame
        case .character("g"): return .openGoTo
        case .character("z"): return .cycleZoom
        case .end, .character("G"): return .lastFrame
        case .character("c"): return .toggleCut
        case .character("["): return .moveCut(-1)
        case .character("]"): return .moveCut(1)
        case .character("r"): return .rerun
        case .character("f"): return .invertFromCursor
        case .character("t"): return .tuneScene
        case .character("m"): return .chooseMethod
        case .character(" "): return .togglePause
        case .character("e"): return .export
        case .character("s"): return .save
        case .character("i"): return .toggleInterpolation
        case .character("1"): return .pinStart
        case .character("2"): return .pinEnd
        case .character("0"): return .unpin
        case .control("l"): return .resize(state.size)   // Ctrl-L: redraw
        default: break
        }
        switch state.mode {
        case .browse:
            switch key {
            case .left, .character("h"): return .moveFrame(-1)
            case .right, .character("l"): return .moveFrame(1)
            case .character("j"), .down: return .moveWithinPane(1)
            case .character("k"), .up: return .moveWithinPane(-1)
            case .character("+"), .character("="): return .zoomTimeline(1)
            case .character("-"): return .zoomTimeline(-1)
            case .escape: return .closeOverlay
            default: return nil
            }
        case .interpolate:
            switch key {
            case .left, .character("h"): return .scrub(-1)
            case .right, .character("l"): return .scrub(1)
            case .character("+"), .character("="): return .changeStep(1)
            case .character("-"): return .changeStep(-1)
            case .character("p"): return .togglePlay
            case .escape: return .toggleInterpolation
            default: return nil
            }
        }
    }

    static func click(x: Int, y: Int, in state: AppState) -> AppAction? {
        let layout = AppLayout(size: state.size)
        let timeline = TimelinePane.Geometry(box: layout.timeline)
        if timeline.data.contains(x: x, y: y) { return .clickTimeline(column: x - timeline.data.x) }
        if state.mode == .interpolate {
            let track = PreviewPane.sliderTrack(state: state, box: layout.preview)
            if track.contains(x: x, y: y) { return .clickSlider(column: x - track.x) }
        }
        return layout.pane(atX: x, y: y).map { .focus($0) }
    }
}
