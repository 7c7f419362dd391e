/// One frame's inversion result.
public struct FrameInversion: Sendable {
    /// [num_ws, w_dim] (W broadcast to every layer when the space is W).
    public var ws: Tensor
    /// One map per noise layer, [R, R]; nil when the model's const noise was used.
    public var noise: [Tensor]?
    /// Image loss at every step (before that step's update).
    public var lossHistory: [Float]
    /// Image loss of the final latents.
    public var finalLoss: Float
    /// Generator forward+backward evaluations spent on this frame.
    public var evaluations: Int
    /// The scene method: the frames (video numbering) of the straight segment this frame lies on,
    /// its first at t = 0 and its last at t = 1. nil for per-frame methods and transition frames.
    /// Saved with the frame, so a scene's path can be rebuilt from its frames (see `LatentPath`).
    public var segment: ClosedRange<Int>?

    public init(ws: Tensor, noise: [Tensor]?, lossHistory: [Float], finalLoss: Float, evaluations: Int) {
        self.ws = ws
        self.noise = noise
        self.lossHistory = lossHistory
        self.finalLoss = finalLoss
        self.evaluations = evaluations
    }
}

extension SynthesisNetwork {
    /// A finished frame's image [1, C, R, R]: its latents with its noise maps (the model's const
    /// noise when it has none).
    public func render(_ frame: FrameInversion, workspace: SynthesisWorkspace) -> Tensor {
        let noise: NoiseMode = frame.noise.map { .explicit($0.map { $0.reshaped([1] + $0.shape) }) } ?? .const
        return forward(frame.ws.reshaped([1] + frame.ws.shape), noise: noise, workspace: workspace)
    }

    /// The same image as 8-bit RGB (a one-channel model's grey repeated in each channel): the one
    /// way a finished frame becomes a picture, for previews, exports and interpolations.
    public func renderImage(_ frame: FrameInversion, workspace: SynthesisWorkspace) -> RGBImage {
        RGBImage(generated: render(frame, workspace: workspace))
    }
}

extension RGBImage {
    /// A generator image [1, C, R, R] or [C, R, R] with C = 3 or 1 (grey) in [-1, 1].
    public init(generated image: Tensor) {
        let r = image.shape[image.rank - 1], c = image.shape[image.rank - 3]
        let planes = image.reshaped([c, r, r])
        self.init(tensor: c == 3 ? planes : Tensor.concatenate([planes, planes, planes]))
    }
}
