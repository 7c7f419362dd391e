/// What every inversion method shares.
public struct InversionSettings: Sendable {
    public var space: LatentSpace = .wPlus
    /// Optimise per-frame noise maps (NVIDIA's projector does); off uses the model's const noise.
    public var optimizeNoise = true
    /// NVIDIA's noise regulariser weight.
    public var noiseRegularization: Float = 1e5
    /// Weight of the Gaussianized-W prior (Wulff & Torralba); 0 = off.
    public var priorWeight: Float = 0
    /// Frames per generator batch.
    public var batch = 8
    /// Seeds the noise initialisation and the w noise of the schedule.
    public var seed: UInt64 = 0
    /// Images of the current reconstruction sent with progress every this many steps (0 = never).
    public var previewInterval = 0
    /// `scene`: knots a scene's path may bend at, between its ends (`--max-knots`); 0 keeps one
    /// straight line per scene.
    public var maxKnots = 3
    /// Latents to start from instead of w_avg (`--init`); nil starts as NVIDIA's projector does.
    public var initial: InitialLatents?

    public init() {}
}

/// A snapshot for progress bars and the UI.
public struct InversionProgress: Sendable {
    public var frames: [Int]
    public var step: Int
    public var steps: Int
    public var losses: [Float]
    /// The current reconstruction [N, C, R, R], at the preview interval.
    public var preview: Tensor?
    /// What one loss curve follows across steps: the whole scene a line is fitted to (the scene
    /// method renders a different handful of its frames at each step), or the first frame of the
    /// batch for the per-frame methods. A caller draws `curveLoss` step after step while `curve`
    /// stays the same.
    public var curve: ClosedRange<Int>
    /// This step's point on that curve: the mean loss of the scene's frames rendered at this step, or
    /// the first frame's own loss.
    public var curveLoss: Float

    public init(frames: [Int], step: Int, steps: Int, losses: [Float], preview: Tensor?, curve: ClosedRange<Int>? = nil, curveLoss: Float? = nil) {
        self.frames = frames
        self.step = step
        self.steps = steps
        self.losses = losses
        self.preview = preview
        self.curve = curve ?? ((frames.first ?? 0)...(frames.first ?? 0))
        self.curveLoss = curveLoss ?? losses.first ?? .nan
    }
}

/// Called after every step; return false to stop (cancel) as soon as possible.
public typealias InversionObserver = @Sendable (InversionProgress) -> Bool

/// Told about frames as they finish (indices into the run's targets), so a caller can save each
/// one at once: an interrupted run then loses at most the frames in flight.
public typealias FinishedFrames = (_ indices: [Int], _ frames: [FrameInversion]) throws -> Void

/// Thrown when an observer cancels.
public struct InversionCancelled: Error, Sendable {
    public init() {}
}
