import Foundation

/// Adam (Kingma & Ba) as `torch.optim.Adam` computes it on a CPU float32 tensor, over one parameter
/// tensor: the same float32 operations in the same order, with the bias corrections in float64 as
/// torch computes them in Python, so a run follows torch's to within a rounding a step (AdamTests
/// holds it against the real thing).
///
/// Defaults are NVIDIA's projector's: betas (0.9, 0.999), eps 1e-8. The learning rate is given per
/// step because every schedule here changes it.
public struct Adam: Sendable {
    public var beta1 = 0.9
    public var beta2 = 0.999
    public var epsilon = 1e-8
    private var m: [Float]
    private var v: [Float]
    public private(set) var steps = 0

    public init(count: Int) {
        m = Array(repeating: 0, count: count)
        v = Array(repeating: 0, count: count)
    }

    /// torch's `_single_tensor_adam`:
    ///     exp_avg.lerp_(grad, 1 - beta1)
    ///     exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    ///     step_size = lr / (1 - beta1**step); bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    ///     denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
    ///     param.addcdiv_(exp_avg, denom, value=-step_size)
    public mutating func step(_ parameter: inout Tensor, gradient: Tensor, lr: Float) {
        precondition(parameter.count == m.count && gradient.count == m.count, "Adam: size mismatch")
        steps += 1
        // Python floats, cast to float32 where a tensor op takes them as scalars.
        let weight1 = Float(1 - beta1)
        let b2 = Float(beta2)
        let weight2 = Float(1 - beta2)
        let negativeStepSize = Float(-(Double(lr) / (1 - pow(beta1, Double(steps)))))
        let correction2Root = Float((1 - pow(beta2, Double(steps))).squareRoot())
        let eps = Float(epsilon)
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                gradient.withUnsafeBufferPointer { g in
                    parameter.withUnsafeMutableBufferPointer { p in
                        for i in 0..<p.count {
                            // lerp with a weight under 0.5: self + weight * (end - self).
                            m[i] = m[i] + weight1 * (g[i] - m[i])
                            v[i] = v[i] * b2 + weight2 * g[i] * g[i]
                            let denominator = v[i].squareRoot() / correction2Root + eps
                            p[i] = p[i] + negativeStepSize * (m[i] / denominator)
                        }
                    }
                }
            }
        }
    }
}
