import Foundation

/// Reconstruction quality of images in [-1, 1] (the generator's range), per frame.
public enum ImageMetrics {
    /// PSNR in dB with the data range of [-1, 1] (2), the same value as on 8-bit [0, 255] images.
    /// Capped at 100 dB (identical images).
    public static func psnr(_ a: Tensor, _ b: Tensor) -> [Double] {
        precondition(a.shape == b.shape && a.rank == 4)
        let n = a.shape[0]
        let per = a.count / max(n, 1)
        return a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                (0..<n).map { s in
                    var sum: Double = 0
                    for i in (s * per)..<((s + 1) * per) {
                        let d = Double(min(max(x[i], -1), 1)) - Double(min(max(y[i], -1), 1))
                        sum += d * d
                    }
                    let mse = sum / Double(per)
                    return mse == 0 ? 100 : min(100, 10 * log10(4 / mse))
                }
            }
        }
    }

    /// SSIM (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, data range 2,
    /// 'valid' windows, averaged over channels and positions; one value per frame.
    public static func ssim(_ a: Tensor, _ b: Tensor) -> [Double] {
        precondition(a.shape == b.shape && a.rank == 4)
        let (n, c, h, w) = (a.shape[0], a.shape[1], a.shape[2], a.shape[3])
        let size = min(11, h, w)
        let sigma = 1.5
        var g = (0..<size).map { i in exp(-pow(Double(i - size / 2), 2) / (2 * sigma * sigma)) }
        let total = g.reduce(0, +)
        g = g.map { $0 / total }
        let c1 = pow(0.01 * 2, 2.0)
        let c2 = pow(0.03 * 2, 2.0)
        let oh = h - size + 1
        let ow = w - size + 1
        var out: [Double] = []
        // The Gaussian window is separable: filter the five moments along rows ([h, ow] each), then
        // along columns, 2 x 11 taps a moment instead of 121 (the final pass renders a film's frames
        // through this). Float64 throughout, as the direct window sums were.
        var rows = [Double](repeating: 0, count: 5 * h * ow)  // [5, h, ow]: u, v, uu, vv, uv
        let plane = h * ow
        a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                for s in 0..<n {
                    var acc = 0.0
                    for ch in 0..<c {
                        let base = (s * c + ch) * h * w
                        for yy in 0..<h {
                            for ox in 0..<ow {
                                var mu = 0.0, mv = 0.0, uu = 0.0, vv = 0.0, uv = 0.0
                                for kx in 0..<size {
                                    let u = Double(x[base + yy * w + ox + kx])
                                    let v = Double(y[base + yy * w + ox + kx])
                                    let wt = g[kx]
                                    mu += wt * u; mv += wt * v; uu += wt * u * u; vv += wt * v * v; uv += wt * u * v
                                }
                                let o = yy * ow + ox
                                rows[o] = mu; rows[plane + o] = mv; rows[2 * plane + o] = uu; rows[3 * plane + o] = vv; rows[4 * plane + o] = uv
                            }
                        }
                        for oy in 0..<oh {
                            for ox in 0..<ow {
                                var mx = 0.0, my = 0.0, xx = 0.0, yy = 0.0, xy = 0.0
                                for ky in 0..<size {
                                    let wt = g[ky]
                                    let o = (oy + ky) * ow + ox
                                    mx += wt * rows[o]; my += wt * rows[plane + o]; xx += wt * rows[2 * plane + o]
                                    yy += wt * rows[3 * plane + o]; xy += wt * rows[4 * plane + o]
                                }
                                let vx = xx - mx * mx, vy = yy - my * my, cov = xy - mx * my
                                acc += ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
                            }
                        }
                    }
                    out.append(acc / Double(c * oh * ow))
                }
            }
        }
        return out
    }
}
