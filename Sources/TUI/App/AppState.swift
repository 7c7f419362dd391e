import Engine

/// Everything the UI shows, as one value. `AppUpdate` changes it in answer to keys and engine
/// snapshots; `AppView` draws it. Engine results are plain fields: empty until the engine fills
/// them, and each empty one renders as an empty pane with a line saying why.
public struct AppState: Equatable, Sendable {
    // Screen
    public var size: Size
    public var focus: Pane = .timeline
    public var mode: AppMode = .browse
    public var showHelp = false
    /// How far the help overlay is scrolled (it scrolls when the terminal is short).
    public var helpScroll = 0
    /// A one-line note for the status bar (the last action's result); cleared by the next key.
    public var message: String?
    public var quitRequested = false

    // What is open
    public var videoName = ""
    public var modelName = ""
    /// The method whose results are shown, and the latent space it inverts into.
    public var method: InversionMethod?
    public var space: LatentSpace?
    public var frameCount = 0
    /// Frames per second, for the times of cuts added by hand.
    public var fps = 25.0
    /// The frame under the cursor, 0..<frameCount.
    public var cursor = 0
    /// How many frames the timeline shows (nil: all); see `timelineWindow`.
    public var timelineSpan: Int?
    /// The go-to prompt's text while it is open (`g`).
    public var goTo: String?

    // Scenes: detection results, then the user's edits
    /// The engine's cuts (scene detection's, then the user's edits): sorted by frame, no duplicates,
    /// none at frame 0 or past the end.
    public var cuts: [SceneCut] = []
    /// The detector's per-frame difference score; shorter than frameCount while detection runs.
    public var differenceCurve = FrameValues()
    /// Frame ranges whose scenes a cut edit touched since the last re-run: `r` re-inverts only these.
    public var touchedFrames: [Range<Int>] = []

    // Inversion results
    /// Each frame's final loss; NaN (or missing at the end) where the frame is not inverted yet.
    public var frameLoss = FrameValues()
    /// The current method's scenes whose generator is tuned (clean frames): their reconstructions
    /// and scrubber render with the tuned weights.
    public var tunedScenes: [Range<Int>] = []
    /// Where the current method's scene paths bend: the frames at the scene method's interior knots,
    /// sorted (each a vertex of its scene's polyline; none for the per-frame methods).
    public var knots: [Int] = []
    /// The current frame's (or scene's) loss at every optimisation step.
    public var lossHistory: [Double] = []
    /// What `lossHistory` belongs to, e.g. "scene 3" or "frame 120".
    public var lossHistoryLabel = ""
    /// The loss pane plots on a log scale (j and k switch).
    public var logScale = false
    public var previews = PreviewImages()
    public var engine = EngineStatus()
    public var interpolation = InterpolationState()

    public init(size: Size) {
        self.size = size
    }

    /// True when any inversion result is in.
    public var hasInversion: Bool { frameLoss.hasFinite || !lossHistory.isEmpty }
}
