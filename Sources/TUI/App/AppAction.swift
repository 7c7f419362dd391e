/// What a key means, once decoded for the current mode: `KeyMap` turns keys into actions,
/// `AppUpdate` applies actions to the state.
public enum AppAction: Equatable, Sendable {
    case moveFrame(Int)
    case moveScene(Int)
    case firstFrame, lastFrame
    case moveWithinPane(Int)
    case nextPane, previousPane
    case focus(Pane)
    case toggleHelp, closeOverlay
    case scrollHelp(Int)
    case resize(Size)
    case quit
    case clickTimeline(column: Int)
    /// Zoom the timeline in (> 0) or out; `z` goes round the three zooms.
    case zoomTimeline(Int)
    case cycleZoom
    /// The go-to prompt: open it, type into it, go, or close it.
    case openGoTo
    case typeGoTo(Character)
    case eraseGoTo
    case goTo
    case cancelGoTo
    case clickSlider(column: Int)
    // Cuts
    case toggleCut
    case moveCut(Int)
    case rerun
    /// Invert from the cursor's scene onwards first, then the scenes before it.
    case invertFromCursor
    /// Tune the generator on the cursor's scene (pivotal tuning around its latents).
    case tuneScene
    // Engine and session
    case chooseMethod, togglePause, export, save
    // Interpolation
    case toggleInterpolation
    case scrub(Int)
    case changeStep(Int)
    case togglePlay
    case pinStart, pinEnd, unpin
    /// Time passed (seconds), for playing the interpolation.
    case tick(Double)
}
