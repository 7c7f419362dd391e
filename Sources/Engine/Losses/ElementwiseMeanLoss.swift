/// What L1 and MSE share: per sample, the mean over (c, h, w) of f(prediction - target), and the
/// gradient scale * f'(d) / (c h w) added element by element.
@inline(__always)
func elementwiseMeanLoss(
    _ name: String, _ prediction: Tensor, _ target: Tensor, gradient: inout Tensor?, scale: Float,
    value: (Float) -> Float, derivative: (Float) -> Float
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
                    for j in i..<end { block += value(p[base + j] - t[base + j]) }
                    sum += Double(block)
                    i = end
                }
                losses[s] = Float(sum / Double(max(per, 1)))
            }
            if gradient != nil {
                gradient!.withUnsafeMutableBufferPointer { g in
                    for i in 0..<(n * per) { g[i] += step * derivative(p[i] - t[i]) }
                }
            }
        }
    }
    return losses
}
