import Foundation

/// Plain float64 implementations of linstory's losses and regularisers, written for clarity, not speed:
/// direct 2-D windows instead of separable passes, every pyramid level materialised, no reuse of
/// intermediates. The fast float32 code in `Engine/Losses` is held against these (values) and against
/// central finite differences of these (gradients).
///
/// Images are flat [Double] in [N, C, H, W] order.
public enum ReferenceLosses {
    // MARK: - Pixel losses

    public static func l1(_ x: [Double], _ y: [Double], n: Int) -> [Double] {
        let per = x.count / n
        return (0..<n).map { s in (0..<per).reduce(0.0) { $0 + abs(x[s * per + $1] - y[s * per + $1]) } / Double(per) }
    }

    public static func mse(_ x: [Double], _ y: [Double], n: Int) -> [Double] {
        let per = x.count / n
        return (0..<n).map { s in
            (0..<per).reduce(0.0) { acc, i in
                let d = x[s * per + i] - y[s * per + i]
                return acc + d * d
            } / Double(per)
        }
    }

    // MARK: - MS-SSIM

    /// One channel plane.
    public struct Plane {
        public var h: Int, w: Int
        public var v: [Double]
        public init(h: Int, w: Int, v: [Double]) { self.h = h; self.w = w; self.v = v }
        public subscript(_ i: Int, _ j: Int) -> Double { v[i * w + j] }
    }

    public static func planes(_ x: [Double], n: Int, c: Int, h: Int, w: Int) -> [[Plane]] {
        (0..<n).map { s in (0..<c).map { ch in Plane(h: h, w: w, v: Array(x[((s * c + ch) * h * w)..<((s * c + ch + 1) * h * w)])) } }
    }

    /// PyTorch's avg_pool2d(kernel 2, padding (h % 2, w % 2)), zeros counted.
    public static func torchPool(_ p: Plane) -> Plane {
        let ph = p.h % 2, pw = p.w % 2
        let oh = (p.h + 2 * ph) / 2, ow = (p.w + 2 * pw) / 2
        var out = [Double](repeating: 0, count: oh * ow)
        for i in 0..<oh {
            for j in 0..<ow {
                var s = 0.0
                for a in 0..<2 {
                    for b in 0..<2 {
                        let r = 2 * i + a - ph, c = 2 * j + b - pw
                        if r >= 0 && r < p.h && c >= 0 && c < p.w { s += p[r, c] }
                    }
                }
                out[i * ow + j] = s / 4
            }
        }
        return Plane(h: oh, w: ow, v: out)
    }

    /// (mean ssim map, mean cs map) of one scale, 11 x 11 window as the outer product of the 1-D Gaussian,
    /// 'valid' positions only.
    public static func ssimAndCS(_ x: Plane, _ y: Plane, c1: Double, c2: Double) -> (ssim: Double, cs: Double) {
        let g1 = gaussian(size: 11, sigma: 1.5)
        let oh = x.h - 10, ow = x.w - 10
        var ssimSum = 0.0, csSum = 0.0
        for i in 0..<oh {
            for j in 0..<ow {
                var m1 = 0.0, m2 = 0.0, xx = 0.0, yy = 0.0, xy = 0.0
                for a in 0..<11 {
                    for b in 0..<11 {
                        let g = g1[a] * g1[b]
                        let u = x[i + a, j + b], v = y[i + a, j + b]
                        m1 += g * u; m2 += g * v; xx += g * u * u; yy += g * v * v; xy += g * u * v
                    }
                }
                let s11 = xx - m1 * m1, s22 = yy - m2 * m2, s12 = xy - m1 * m2
                let cs = (2 * s12 + c2) / (s11 + s22 + c2)
                csSum += cs
                ssimSum += (2 * m1 * m2 + c1) / (m1 * m1 + m2 * m2 + c1) * cs
            }
        }
        return (ssimSum / Double(oh * ow), csSum / Double(oh * ow))
    }

    public static func gaussian(size: Int, sigma: Double) -> [Double] {
        let g = (0..<size).map { exp(-pow(Double($0 - size / 2), 2) / (2 * sigma * sigma)) }
        let s = g.reduce(0, +)
        return g.map { $0 / s }
    }

    /// MS-SSIM per sample of images in [-1, 1], scored as x + 1 in [0, 2] with L = 2 (equivalently [0, 1]
    /// with L = 1): relu'd cs at all scales but the last, relu'd ssim at the last, renormalised exponents.
    public static func msssim(_ x: [Double], _ y: [Double], n: Int, c: Int, h: Int, w: Int) -> [Double] {
        let c1 = (0.01 * 2.0) * (0.01 * 2.0), c2 = (0.03 * 2.0) * (0.03 * 2.0)
        var scales = 1
        var side = min(h, w)
        while scales < 5 && (side + 1) / 2 >= 11 { side = (side + 1) / 2; scales += 1 }
        let all = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
        let total = all.prefix(scales).reduce(0, +)
        let exponents = all.prefix(scales).map { $0 / total }
        let xs = planes(x.map { $0 + 1 }, n: n, c: c, h: h, w: w)
        let ys = planes(y.map { $0 + 1 }, n: n, c: c, h: h, w: w)
        return (0..<n).map { s in
            var sum = 0.0
            for ch in 0..<c {
                var px = xs[s][ch], py = ys[s][ch]
                var value = 1.0
                for k in 0..<scales {
                    let (ssim, cs) = ssimAndCS(px, py, c1: c1, c2: c2)
                    let factor = k == scales - 1 ? ssim : cs
                    value *= factor > 0 ? pow(factor, exponents[k]) : 0
                    px = torchPool(px)
                    py = torchPool(py)
                }
                sum += value
            }
            return sum / Double(c)
        }
    }

    // MARK: - Laplacian pyramid L1

    private static func reflect(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }

    /// The 5 x 5 Burt-Adelson blur (outer product of [1, 4, 6, 4, 1] / 16), reflected borders.
    public static func burtBlur(_ p: Plane) -> Plane {
        let k = [1.0, 4, 6, 4, 1].map { $0 / 16 }
        var out = [Double](repeating: 0, count: p.h * p.w)
        for i in 0..<p.h {
            for j in 0..<p.w {
                var s = 0.0
                for a in 0..<5 { for b in 0..<5 { s += k[a] * k[b] * p[reflect(i + a - 2, p.h), reflect(j + b - 2, p.w)] } }
                out[i * p.w + j] = s
            }
        }
        return Plane(h: p.h, w: p.w, v: out)
    }

    /// The Laplacian pyramid [L^0, ..., L^{levels-1}, G^levels] of one plane.
    public static func laplacianPyramid(_ p: Plane, levels: Int) -> [Plane] {
        var result: [Plane] = []
        var g = p
        for _ in 0..<levels {
            let blurred = burtBlur(g)
            let oh = (g.h + 1) / 2, ow = (g.w + 1) / 2
            var next = Plane(h: oh, w: ow, v: [Double](repeating: 0, count: oh * ow))
            for i in 0..<oh { for j in 0..<ow { next.v[i * ow + j] = blurred[2 * i, 2 * j] } }
            var up = Plane(h: g.h, w: g.w, v: [Double](repeating: 0, count: g.h * g.w))
            for i in 0..<oh { for j in 0..<ow { up.v[(2 * i) * g.w + 2 * j] = next[i, j] } }
            let expanded = burtBlur(up)
            result.append(Plane(h: g.h, w: g.w, v: (0..<(g.h * g.w)).map { g.v[$0] - 4 * expanded.v[$0] }))
            g = next
        }
        result.append(g)
        return result
    }

    /// Sum over levels of mean |L^j(x) - L^j(y)| per sample, pyramids of x and y built separately.
    public static func laplacianL1(_ x: [Double], _ y: [Double], n: Int, c: Int, h: Int, w: Int, levels: Int) -> [Double] {
        let xs = planes(x, n: n, c: c, h: h, w: w), ys = planes(y, n: n, c: c, h: h, w: w)
        return (0..<n).map { s in
            var total = 0.0
            for ch in 0..<c {
                let a = laplacianPyramid(xs[s][ch], levels: levels), b = laplacianPyramid(ys[s][ch], levels: levels)
                for (la, lb) in zip(a, b) {
                    total += zip(la.v, lb.v).reduce(0.0) { $0 + abs($1.0 - $1.1) } / Double(la.v.count)
                }
            }
            return total / Double(c)
        }
    }

    // MARK: - Noise regulariser

    /// projector.py's regulariser of one h x w map.
    public static func noiseRegularizer(_ map: [Double], h: Int, w: Int) -> Double {
        var p = Plane(h: h, w: w, v: map)
        var reg = 0.0
        while true {
            var sw = 0.0, sh = 0.0
            for i in 0..<p.h {
                for j in 0..<p.w {
                    sw += p[i, j] * p[i, (j - 1 + p.w) % p.w]
                    sh += p[i, j] * p[(i - 1 + p.h) % p.h, j]
                }
            }
            let count = Double(p.h * p.w)
            reg += pow(sw / count, 2) + pow(sh / count, 2)
            if p.h <= 8 { break }
            let oh = p.h / 2, ow = p.w / 2
            var next = Plane(h: oh, w: ow, v: [Double](repeating: 0, count: oh * ow))
            for i in 0..<oh {
                for j in 0..<ow {
                    next.v[i * ow + j] = (p[2 * i, 2 * j] + p[2 * i + 1, 2 * j] + p[2 * i, 2 * j + 1] + p[2 * i + 1, 2 * j + 1]) / 4
                }
            }
            p = next
        }
        return reg
    }

    // MARK: - Gaussianized-W prior

    /// (v - mu)^T (Sigma + ridge mean(diag) I)^-1 (v - mu) with v = w (w >= 0) or 5 w, by Gaussian elimination.
    public static func mahalanobisSquared(_ w: [Double], mean: [Double], covariance: [Double], ridge: Double) -> Double {
        let d = w.count
        var a = covariance
        let lift = ridge * (0..<d).reduce(0.0) { $0 + covariance[$1 * d + $1] } / Double(d)
        for i in 0..<d { a[i * d + i] += lift }
        let r = (0..<d).map { (w[$0] >= 0 ? w[$0] : 5 * w[$0]) - mean[$0] }
        var b = r
        // Solve a u = r with partial pivoting.
        for col in 0..<d {
            let pivot = (col..<d).max { abs(a[$0 * d + col]) < abs(a[$1 * d + col]) }!
            if pivot != col {
                for k in 0..<d { a.swapAt(col * d + k, pivot * d + k) }
                b.swapAt(col, pivot)
            }
            for row in (col + 1)..<max(d, col + 1) {
                let f = a[row * d + col] / a[col * d + col]
                for k in col..<d { a[row * d + k] -= f * a[col * d + k] }
                b[row] -= f * b[col]
            }
        }
        var u = [Double](repeating: 0, count: d)
        for row in stride(from: d - 1, through: 0, by: -1) {
            var s = b[row]
            for k in (row + 1)..<max(d, row + 1) { s -= a[row * d + k] * u[k] }
            u[row] = s / a[row * d + row]
        }
        return zip(r, u).reduce(0.0) { $0 + $1.0 * $1.1 }
    }

    // MARK: - Finite differences

    /// (f(x + h d) - f(x - h d)) / (2 h): the derivative of f along d.
    public static func centralDifference(
        _ f: ([Double]) -> Double, at x: [Double], direction: [Double], step h: Double = 1e-6
    ) -> Double {
        let plus = zip(x, direction).map { $0 + h * $1 }
        let minus = zip(x, direction).map { $0 - h * $1 }
        return (f(plus) - f(minus)) / (2 * h)
    }

    /// The central difference along coordinate `index`.
    public static func centralDifference(_ f: ([Double]) -> Double, at x: [Double], index: Int, step h: Double = 1e-6) -> Double {
        var plus = x, minus = x
        plus[index] += h
        minus[index] -= h
        return (f(plus) - f(minus)) / (2 * h)
    }
}
