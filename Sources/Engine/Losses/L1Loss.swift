/// Mean absolute error per sample: loss_n = mean over (c, h, w) of |prediction - target|.
///
/// The gradient at prediction == target is 0 (PyTorch's `abs` backward, `sign(0) = 0`).
public struct L1Loss: ImageLoss {
    public var name: String { "l1" }

    public init() {}

    public func evaluate(
        _ prediction: Tensor, _ target: Tensor, accumulatingGradient gradient: inout Tensor?, scale: Float
    ) -> [Float] {
        elementwiseMeanLoss(name, prediction, target, gradient: &gradient, scale: scale,
                            value: { abs($0) }, derivative: { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) })
    }
}
