/// A reconstruction loss between two batches of images, with its gradient.
///
/// Layout and range: `prediction` and `target` are [N, C, H, W] float32 in [-1, 1], the generator's
/// output range (B = N samples, C channels, H x W pixels). The loss is computed per sample: `evaluate`
/// returns N values, and the gradient it writes is that of their *sum*, so an optimiser that
/// minimises the sum (a batch of frames, each with its own latent) gets every frame's own gradient.
///
/// The gradient goes into a caller-owned tensor shaped like `prediction`, so an optimiser loop can
/// keep one tensor and reuse it every step. Conforming types accumulate (`+=`) with a scale, which
/// lets a weighted sum of losses share one gradient tensor without temporaries; the convenience
/// `evaluate(_:_:gradient:)` zeroes the tensor first.
///
/// Conformers are value types that are safe to share across threads (`Sendable`). Those that need
/// scratch memory keep it in a `LossScratch`, reused between calls (no allocation in the optimiser's
/// steady state) and never shared by two calls at once.
///
/// To add a loss (a learned perceptual one, say): conform, give it a short `name`, and add it to
/// `ImageLosses.named(_:)` so the command line can select it.
public protocol ImageLoss: Sendable {
    /// A short name for logs, session files and the command line ("l1", "msssim", "mix", ...).
    var name: String { get }

    /// Per-sample losses [N] of `prediction` against `target`, both [N, C, H, W].
    ///
    /// When `gradient` is not nil it must have `prediction`'s shape, and the loss adds
    /// `scale` * d(sum over n of loss_n) / d prediction into it. The target is a constant.
    func evaluate(
        _ prediction: Tensor, _ target: Tensor, accumulatingGradient gradient: inout Tensor?, scale: Float
    ) -> [Float]
}

extension ImageLoss {
    /// Per-sample losses [N], no gradient.
    public func evaluate(_ prediction: Tensor, _ target: Tensor) -> [Float] {
        var none: Tensor? = nil
        return evaluate(prediction, target, accumulatingGradient: &none, scale: 1)
    }

    /// Per-sample losses [N]; when `gradient` is not nil (shaped like `prediction`) it is overwritten
    /// with d(sum over n of loss_n) / d prediction.
    public func evaluate(_ prediction: Tensor, _ target: Tensor, gradient: inout Tensor?) -> [Float] {
        if gradient != nil {
            precondition(
                gradient!.shape == prediction.shape,
                "\(name): gradient \(gradient!.shape) must be shaped like the prediction \(prediction.shape)")
            gradient!.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        return evaluate(prediction, target, accumulatingGradient: &gradient, scale: 1)
    }
}

/// The shape checks every image loss makes at its entry point; returns (N, C, H, W).
@inline(__always)
func imageLossDimensions(
    _ name: String, _ prediction: Tensor, _ target: Tensor, _ gradient: Tensor?
) -> (n: Int, c: Int, h: Int, w: Int) {
    precondition(prediction.rank == 4, "\(name): images must be [N, C, H, W], got \(prediction.shape)")
    precondition(
        prediction.shape == target.shape,
        "\(name): prediction \(prediction.shape) and target \(target.shape) differ in shape")
    if let g = gradient {
        precondition(
            g.shape == prediction.shape,
            "\(name): gradient \(g.shape) must be shaped like the prediction \(prediction.shape)")
    }
    return (prediction.shape[0], prediction.shape[1], prediction.shape[2], prediction.shape[3])
}
