// NVIDIA's `MinibatchStdLayer` over the workspace layout [C, N, H, W], forward and backward.
//
// NVIDIA reshapes x [N, C, H, W] to [G, M, F, c, H, W] (M = N / G, c = C / F): sample s = g M + m is
// member g of group m, so a group holds samples m, m + M, m + 2M, ... (not neighbours). Per group m
// and feature f: stat = mean over (c, H, W) of sqrt(var_g(x) + 1e-8), the variance over the group's
// members with divisor G; appended to every member as channel C + f. Its gradient couples the group.
//
// Dimension letters: N batch, C channels, F features, G group size, M = N / G groups, P = H * W.

/// The layer's settings for one batch.
public struct MinibatchStdLayer: Sendable, Equatable {
    /// NVIDIA's group_size: nil = the whole batch.
    public var groupSize: Int?
    /// F, the features appended (num_channels).
    public var features: Int

    public init(groupSize: Int?, features: Int) {
        self.groupSize = groupSize
        self.features = features
    }

    /// G for a batch of N: min(group_size, N).
    public func group(batch n: Int) -> Int { min(groupSize ?? n, n) }

    /// y [C + F, N, P] <- x [C, N, P] with the group statistics appended. N must be a multiple of G.
    func forward(_ x: UnsafePointer<Float>, channels: Int, batch n: Int, pixels: Int, into y: UnsafeMutablePointer<Float>) {
        y.update(from: x, count: channels * n * pixels)
        let f = features
        guard f > 0 else { return }
        let g = group(batch: n)
        let m = n / g
        let c = channels / f
        for mi in 0..<m {
            for fi in 0..<f {
                var sum: Float = 0
                for ci in 0..<c {
                    let ch = fi * c + ci
                    for p in 0..<pixels {
                        var mean: Float = 0
                        for gi in 0..<g { mean += x[(ch * n + gi * m + mi) * pixels + p] }
                        mean /= Float(g)
                        var variance: Float = 0
                        for gi in 0..<g {
                            let d = x[(ch * n + gi * m + mi) * pixels + p] - mean
                            variance += d * d
                        }
                        variance /= Float(g)
                        sum += (variance + 1e-8).squareRoot()
                    }
                }
                let stat = sum / Float(c * pixels)
                for gi in 0..<g {
                    (y + ((channels + fi) * n + gi * m + mi) * pixels).update(repeating: stat, count: pixels)
                }
            }
        }
    }

    /// gx [C, N, P] += the gradient through the layer of gy [C + F, N, P], at the forward's input x.
    func backward(
        _ gy: UnsafePointer<Float>, input x: UnsafePointer<Float>, channels: Int, batch n: Int, pixels: Int,
        into gx: UnsafeMutablePointer<Float>
    ) {
        let count = channels * n * pixels
        for i in 0..<count { gx[i] += gy[i] }
        let f = features
        guard f > 0 else { return }
        let g = group(batch: n)
        let m = n / g
        let c = channels / f
        for mi in 0..<m {
            for fi in 0..<f {
                // d loss / d stat: the appended channel is the stat at every pixel of every member.
                var gStat: Float = 0
                for gi in 0..<g {
                    let row = gy + ((channels + fi) * n + gi * m + mi) * pixels
                    for p in 0..<pixels { gStat += row[p] }
                }
                // d stat / d x_g = (x_g - mean) / (G sd) / (c P): the mean's own term sums to zero.
                let scale = gStat / Float(c * pixels) / Float(g)
                for ci in 0..<c {
                    let ch = fi * c + ci
                    for p in 0..<pixels {
                        var mean: Float = 0
                        for gi in 0..<g { mean += x[(ch * n + gi * m + mi) * pixels + p] }
                        mean /= Float(g)
                        var variance: Float = 0
                        for gi in 0..<g {
                            let d = x[(ch * n + gi * m + mi) * pixels + p] - mean
                            variance += d * d
                        }
                        variance /= Float(g)
                        let k = scale / (variance + 1e-8).squareRoot()
                        for gi in 0..<g {
                            let i = (ch * n + gi * m + mi) * pixels + p
                            gx[i] += k * (x[i] - mean)
                        }
                    }
                }
            }
        }
    }
}
