/// Mean absolute error per sample: loss_n = mean over (c, h, w) of |prediction - target|.
///
/// The gradient at prediction == target is 0 (PyTorch's `abs` backward, `sign(0) = 0`).
public struct L1Loss: ImageLoss {
    public var name: String { "l1" }

    public init() {}

    public func evaluate(
        _ prediction: Tensor, _ target: Tensor, accumulatingGradient gradient: inout Tensor?, scale: Float
    ) -> [Float] {
        let (n, c, h, w) = imageLossDimensions(name, prediction, target, gradient)
        let per = c * h * w
        var losses = [Float](repeating: 0, count: n)
        let step = scale / Float(max(per, 1))
        prediction.withUnsafeBufferPointer { p in
            target.withUnsafeBufferPointer { t in
                for s in 0..<n {
                    var sum: Double = 0
                    let base = s * per
                    var i = 0
                    // Blocks of 1024 summed in float, then in double: fast and accurate to ~1e-7.
                    while i < per {
                        let end = min(i + 1024, per)
                        var block: Float = 0
                        for j in i..<end { block += abs(p[base + j] - t[base + j]) }
                        sum += Double(block)
                        i = end
                    }
                    losses[s] = Float(sum / Double(max(per, 1)))
                }
                if gradient != nil {
                    gradient!.withUnsafeMutableBufferPointer { g in
                        for i in 0..<(n * per) {
                            let d = p[i] - t[i]
                            g[i] += d > 0 ? step : (d < 0 ? -step : 0)
                        }
                    }
                }
            }
        }
        return losses
    }
}
