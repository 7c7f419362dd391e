/// Mean squared error per sample: loss_n = mean over (c, h, w) of (prediction - target)^2.
public struct MSELoss: ImageLoss {
    public var name: String { "mse" }

    public init() {}

    public func evaluate(
        _ prediction: Tensor, _ target: Tensor, accumulatingGradient gradient: inout Tensor?, scale: Float
    ) -> [Float] {
        let (n, c, h, w) = imageLossDimensions(name, prediction, target, gradient)
        let per = c * h * w
        var losses = [Float](repeating: 0, count: n)
        let step = 2 * scale / Float(max(per, 1))
        prediction.withUnsafeBufferPointer { p in
            target.withUnsafeBufferPointer { t in
                for s in 0..<n {
                    var sum: Double = 0
                    let base = s * per
                    var i = 0
                    while i < per {
                        let end = min(i + 1024, per)
                        var block: Float = 0
                        for j in i..<end {
                            let d = p[base + j] - t[base + j]
                            block += d * d
                        }
                        sum += Double(block)
                        i = end
                    }
                    losses[s] = Float(sum / Double(max(per, 1)))
                }
                if gradient != nil {
                    gradient!.withUnsafeMutableBufferPointer { g in
                        for i in 0..<(n * per) { g[i] += step * (p[i] - t[i]) }
                    }
                }
            }
        }
        return losses
    }
}
