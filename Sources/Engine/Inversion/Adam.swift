/// Adam (Kingma & Ba) as `torch.optim.Adam` computes it, over one parameter tensor.
///
/// Defaults are NVIDIA's projector's: betas (0.9, 0.999), eps 1e-8. The learning rate is given per
/// step because every schedule here changes it.
public struct Adam: Sendable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    private var m: [Float]
    private var v: [Float]
    public private(set) var steps = 0

    public init(count: Int) {
        m = Array(repeating: 0, count: count)
        v = Array(repeating: 0, count: count)
    }

    /// parameter -= lr * m_hat / (sqrt(v_hat) + eps), with bias-corrected moments.
    public mutating func step(_ parameter: inout Tensor, gradient: Tensor, lr: Float) {
        precondition(parameter.count == m.count && gradient.count == m.count, "Adam: size mismatch")
        steps += 1
        let c1 = 1 - Float.pow(beta1, steps)
        let c2 = 1 - Float.pow(beta2, steps)
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                gradient.withUnsafeBufferPointer { g in
                    parameter.withUnsafeMutableBufferPointer { p in
                        for i in 0..<p.count {
                            m[i] = b1 * m[i] + (1 - b1) * g[i]
                            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                            // torch: denom = sqrt(v) / sqrt(c2) + eps; step = lr / c1.
                            p[i] -= (lr / c1) * m[i] / ((v[i] / c2).squareRoot() + eps)
                        }
                    }
                }
            }
        }
    }
}

extension Float {
    static func pow(_ base: Float, _ exponent: Int) -> Float {
        var r: Float = 1
        for _ in 0..<exponent { r *= base }
        return r
    }
}
