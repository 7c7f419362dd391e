/// Finds shot boundaries in a stream of frames: hard cuts, dissolves and fades, with one pipeline.
///
/// Feed it every frame in order; it returns each cut as soon as it is sure of it (a few seconds
/// after the fact: a dissolve is only known once it is over) and keeps the per-frame difference
/// curve for plotting. `finish()` settles what is left at the end of the video.
///
/// The pipeline, learnt from PySceneDetect and taken further:
/// - Every frame is shrunk to the analysis size and compared with the previous one after the best
///   small shift (`MotionSearch`): this difference is the curve, and pans barely register on it.
/// - A hard cut is a frame whose difference passes `threshold` and `adaptiveRatio` times the mean of
///   its neighbours (PySceneDetect's adaptive detector), unless the picture returns within the
///   flash time (a flash, not a cut).
/// - A dissolve or fade is a window whose in-between frames are mixes of its two ends, each carried
///   along its own shot's motion (`BlendFit`), whose ends differ by at least `threshold`, and whose
///   mix rises step by step rather than jumping.
/// - Boundaries into and out of a single-colour picture (black, white) chain into one fade; one at
///   the very start or end of the video (a fade in from black) is no cut; cuts closer than the
///   minimum scene length are merged.
public struct SceneDetector: Sendable {
    public let fps: Double
    public let options: Options
    /// Cuts found so far, in order.
    public internal(set) var cuts: [SceneCut] = []
    /// For each frame, its motion-compensated difference from the previous frame (0 for the first),
    /// in threshold units.
    public internal(set) var curve: [Float] = []
    /// Frames fed so far.
    public var framesSeen: Int { curve.count }

    // Settings in frames.
    let threshold: Float
    let ratio: Float
    let flashFrames: Int
    let maxWindow: Int
    let minScene: Int
    let windowLengths: [Int]
    /// Frames of look-ahead before a hard cut is tested, and before a window's end is.
    let cutDelay: Int
    let windowDelay = 4
    /// How much of a residual a blend may leave (relative to the change it explains).
    let maxResidual: Float = 0.2
    /// Below this, a gradual change is taken for re-lighting (see `closeClusters`).
    let relitLimit: Float = 0.3

    // Per-frame state, kept for the whole video (a few bytes a frame).
    var shifts: [SIMD2<Float>] = []
    var flat: [Bool] = []
    var firstNonFlat: Int?
    // The last frames, for the tests that look back.
    var ring: [AnalysisFrame?]
    var analysisSize: (width: Int, height: Int)?

    // Pipeline state.
    var nextCut = 1
    var nextWindowEnd = 2
    var clusters: [BlendCluster] = []
    var events: [TransitionEvent] = []
    var chain: TransitionChain?
    var tentative: SceneCut?
    var finished = false

    public init(fps: Double, options: Options = Options()) {
        precondition(fps > 0 && fps.isFinite, "frame rate \(fps) is not positive")
        self.fps = fps
        self.options = options
        threshold = Float(options.threshold)
        ratio = Float(options.adaptiveRatio)
        flashFrames = min(max(options.flash.frames(at: fps), 1), 24)
        maxWindow = min(max(options.maxTransition.frames(at: fps), 4), 300)
        minScene = options.minSceneLength.frames(at: fps)
        cutDelay = max(2, flashFrames)
        // Window lengths grow geometrically: a window a little longer than a transition fits it as
        // well (the extra frames sit at alpha 0 or 1), so every length need not be tried.
        var lengths: [Int] = []
        var m = 2
        while m <= maxWindow {
            lengths.append(m)
            m = max(m + 1, Int((Double(m) * 1.15).rounded()))
        }
        windowLengths = lengths
        ring = Array(repeating: nil, count: maxWindow + 2 * flashFrames + 16)
    }

    /// Analyses the next frame (any size; it is shrunk to the analysis size unless it already is
    /// that size) and returns the cuts this settles.
    public mutating func feed(_ image: RGBImage) -> [SceneCut] {
        precondition(!finished, "feed after finish")
        let size = analysisSize ?? Self.analysisSize(width: image.width, height: image.height, options: options)
        analysisSize = size
        let small = image.width == size.width && image.height == size.height
            ? image : AreaResampler.resize(image, width: size.width, height: size.height)
        let frame = AnalysisFrame(small)
        let t = curve.count
        if t > 0, let previous = ring[(t - 1) % ring.count] {
            let match = MotionSearch.match(previous, frame)
            curve.append(match.difference)
            shifts.append(match.shift)
        } else {
            curve.append(0)
            shifts.append(.zero)
        }
        flat.append(frame.isFlat)
        if !frame.isFlat && firstNonFlat == nil { firstNonFlat = t }
        ring[t % ring.count] = frame
        return advance(final: false)
    }

    /// Settles everything left once the last frame has been fed, and returns those cuts.
    public mutating func finish() -> [SceneCut] {
        guard !finished else { return [] }
        finished = true
        return advance(final: true)
    }

    func frame(_ i: Int) -> AnalysisFrame {
        guard let f = ring[i % ring.count] else { preconditionFailure("frame \(i) is no longer held") }
        return f
    }

    /// Runs every test whose look-ahead is now available, then settles what no later frame can change.
    private mutating func advance(final: Bool) -> [SceneCut] {
        let n = curve.count
        while nextCut < n && (final || nextCut <= n - 1 - cutDelay) {
            testHardCut(at: nextCut)
            nextCut += 1
        }
        while nextWindowEnd < n && (final || nextWindowEnd <= n - 1 - windowDelay) {
            testWindows(endingAt: nextWindowEnd)
            nextWindowEnd += 1
        }
        closeClusters(final: final)
        let before = cuts.count
        settle(final: final)
        return Array(cuts[before...])
    }
}
