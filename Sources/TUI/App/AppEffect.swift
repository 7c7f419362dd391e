/// Something an update asks the outside world to do: the run loop carries these out (engine
/// jobs, files), keeping `AppUpdate` pure.
public enum AppEffect: Equatable, Sendable {
    /// Save, then leave the UI.
    case quit
    case save
    case export
    /// Re-invert these scenes (frame ranges), and only these.
    case rerun(scenes: [Range<Int>])
    /// Invert what is not inverted yet, starting with the scene holding this frame (then the
    /// scenes after it, then those before).
    case invertFrom(frame: Int)
    /// Tune the generator on the scene holding these frames (clean frames).
    case tune(scene: Range<Int>)
    case chooseMethod
    case togglePause
    /// Render G(lerp(w_start, w_end, t)) for the line between these frames' latents (the scene's
    /// first and last frame unless pinned).
    case renderInterpolation(startFrame: Int, endFrame: Int, t: Double)
    /// The cursor moved: the engine may send this frame's previews.
    case showFrame(Int)
}
