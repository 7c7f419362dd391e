/// Mean squared error per sample: loss_n = mean over (c, h, w) of (prediction - target)^2.
public struct MSELoss: ImageLoss {
    public var name: String { "mse" }

    public init() {}

    public func evaluate(
        _ prediction: Tensor, _ target: Tensor, accumulatingGradient gradient: inout Tensor?, scale: Float
    ) -> [Float] {
        elementwiseMeanLoss(name, prediction, target, gradient: &gradient, scale: scale, value: { $0 * $0 }, derivative: { 2 * $0 })
    }
}
