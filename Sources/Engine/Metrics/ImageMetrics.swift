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
        a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                for s in 0..<n {
                    var acc = 0.0
                    for ch in 0..<c {
                        let base = (s * c + ch) * h * w
                        for oy in 0..<oh {
                            for ox in 0..<ow {
                                var mx = 0.0, my = 0.0, xx = 0.0, yy = 0.0, xy = 0.0
                                for ky in 0..<size {
                                    for kx in 0..<size {
                                        let wt = g[ky] * g[kx]
                                        let u = Double(x[base + (oy + ky) * w + ox + kx])
                                        let v = Double(y[base + (oy + ky) * w + ox + kx])
                                        mx += wt * u; my += wt * v; xx += wt * u * u; yy += wt * v * v; xy += wt * u * v
                                    }
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
