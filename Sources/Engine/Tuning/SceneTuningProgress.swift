/// A snapshot of a scene's tuning, for progress bars and the UI (as `InversionProgress` is for
/// inversion).
public struct SceneTuningProgress: Sendable {
    /// Steps done, counting this one (1 ... steps).
    public var step: Int
    public var steps: Int
    /// The pivots (indices into the scene's frames) this step rendered.
    public var frames: [Int]
    /// Their mean image loss, before this step's update.
    public var loss: Float
    /// The locality regulariser's mean squared difference, on the steps it ran; nil on the others.
    public var locality: Float?

    public init(step: Int, steps: Int, frames: [Int], loss: Float, locality: Float?) {
        self.step = step
        self.steps = steps
        self.frames = frames
        self.loss = loss
        self.locality = locality
    }
}

/// Called after every step; return false to stop (the tuner throws `InversionCancelled`).
public typealias SceneTuningObserver = @Sendable (SceneTuningProgress) -> Bool
