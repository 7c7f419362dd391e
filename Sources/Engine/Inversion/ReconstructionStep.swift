/// One generator forward + backward for a batch of frames: render ws with the given noise maps,
/// compare with the targets, and return the per-frame losses with the gradients for ws and noise.
///
/// Owns the workspace and the loss-gradient tensor, so an optimiser calls it every step without
/// allocating activations.
public final class ReconstructionStep: @unchecked Sendable {
    public let generator: Generator
    public let loss: any ImageLoss
    public let batch: Int
    let workspace: SynthesisWorkspace
    private var lossGradient: Tensor?

    public init(generator: Generator, loss: any ImageLoss, batch: Int) {
        self.generator = generator
        self.loss = loss
        self.batch = batch
        workspace = SynthesisWorkspace(network: generator.synthesis, batch: batch)
        let c = generator.config
        lossGradient = Tensor(zeros: [batch, c.imgChannels, c.imgResolution, c.imgResolution])
    }

    public struct Result: Sendable {
        /// Per-frame image loss [N].
        public var losses: [Float]
        public var image: Tensor  // [N, C, R, R]
        public var gradWs: Tensor  // [N, num_ws, w_dim]
        /// One per noise layer, shaped like the noise given; empty when noise is the model's own.
        public var gradNoise: [Tensor]
    }

    /// `noise` nil uses the model's constant noise (not optimised).
    /// One frame's image loss against target [1, C, R, R] (a batch-1 step).
    public func loss(of frame: FrameInversion, target: Tensor) -> Float { render(frame, target: target).loss }

    /// One frame's rendering [1, C, R, R] and its image loss against target.
    public func render(_ frame: FrameInversion, target: Tensor) -> (image: Tensor, loss: Float) {
        let image = generator.synthesis.render(frame, workspace: workspace)
        return (image, loss.evaluate(image, target)[0])
    }

    public func run(ws: Tensor, noise: [Tensor]?, targets: Tensor, wantGradients: Bool = true) -> Result {
        let mode: NoiseMode = noise.map { .explicit($0) } ?? .const
        let image = generator.synthesis.forward(ws, noise: mode, workspace: workspace)
        guard wantGradients else {
            return Result(losses: loss.evaluate(image, targets), image: image, gradWs: Tensor(zeros: [0]), gradNoise: [])
        }
        let losses = loss.evaluate(image, targets, gradient: &lossGradient)
        let grads = generator.synthesis.backward(lossGradient!, workspace: workspace, ws: ws)
        return Result(losses: losses, image: image, gradWs: grads.ws, gradNoise: noise == nil ? [] : grads.noise)
    }

    /// Images only (no gradients), for previews and final renders.
    public func render(ws: Tensor, noise: [Tensor]?) -> Tensor {
        generator.synthesis.forward(ws, noise: noise.map { .explicit($0) } ?? .const, workspace: workspace)
    }
}
