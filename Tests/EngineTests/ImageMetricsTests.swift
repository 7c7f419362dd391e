import Engine
import Foundation
import Testing
import TestSupport

/// PSNR and SSIM against plain float64 implementations of their definitions.
@Suite("ImageMetrics: PSNR and SSIM")
struct ImageMetricsTests {
    /// 10 log10(range^2 / MSE) with range 2 (images in [-1, 1]), after clamping to [-1, 1].
    static func referencePSNR(_ a: [Double], _ b: [Double]) -> Double {
        let c = { (x: Double) in min(max(x, -1), 1) }
        let mse = zip(a, b).map { (c($0) - c($1)) * (c($0) - c($1)) }.reduce(0, +) / Double(a.count)
        return 10 * log10(4 / mse)
    }

    /// Wang et al. (2004): per channel, at every 'valid' position of an 11x11 Gaussian window
    /// (sigma 1.5, weights normalised to sum 1), weighted means, variances and covariance (two-pass),
    /// SSIM = (2 mx my + C1)(2 sxy + C2) / ((mx^2 + my^2 + C1)(sx^2 + sy^2 + C2)), C1 = (0.01 L)^2,
    /// C2 = (0.03 L)^2, L = 2; the mean over channels and positions.
    static func referenceSSIM(_ a: [Double], _ b: [Double], channels: Int, height h: Int, width w: Int) -> Double {
        let k = 11
        var window = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        for y in 0..<k { for x in 0..<k { window[y][x] = exp(-Double((y - 5) * (y - 5) + (x - 5) * (x - 5)) / (2 * 1.5 * 1.5)) } }
        let total = window.joined().reduce(0, +)
        window = window.map { $0.map { $0 / total } }
        let c1 = (0.01 * 2.0) * (0.01 * 2.0), c2 = (0.03 * 2.0) * (0.03 * 2.0)
        var sum = 0.0, n = 0
        for ch in 0..<channels {
            let at = { (img: [Double], y: Int, x: Int) in img[(ch * h + y) * w + x] }
            for oy in 0...(h - k) {
                for ox in 0...(w - k) {
                    var mx = 0.0, my = 0.0
                    for y in 0..<k { for x in 0..<k { mx += window[y][x] * at(a, oy + y, ox + x); my += window[y][x] * at(b, oy + y, ox + x) } }
                    var vx = 0.0, vy = 0.0, cov = 0.0
                    for y in 0..<k {
                        for x in 0..<k {
                            let dx = at(a, oy + y, ox + x) - mx, dy = at(b, oy + y, ox + x) - my
                            vx += window[y][x] * dx * dx; vy += window[y][x] * dy * dy; cov += window[y][x] * dx * dy
                        }
                    }
                    sum += ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
                    n += 1
                }
            }
        }
        return sum / Double(n)
    }

    /// `frames` pairs: a random image in [-1, 1] and a copy with noise of growing strength.
    static func pairs(frames: Int, channels: Int, side: Int, seed: UInt64) -> (Tensor, Tensor) {
        var rng = TestRandom(seed: seed)
        let per = channels * side * side
        var a: [Float] = [], b: [Float] = []
        for f in 0..<frames {
            let x = rng.normals(per, scale: 0.4).map { min(max($0, -1), 1) }
            let noise = rng.normals(per, scale: 0.02 * Float(f + 1) * Float(f + 1))
            a += x
            b += zip(x, noise).map { min(max($0 + $1, -1), 1) }
        }
        return (Tensor(shape: [frames, channels, side, side], values: a), Tensor(shape: [frames, channels, side, side], values: b))
    }

    static func frame(_ t: Tensor, _ i: Int) -> [Double] { t.slice(i..<(i + 1)).doubles }

    @Test("PSNR per frame equals 10 log10(4 / MSE)")
    func psnrMatchesReference() {
        let (a, b) = Self.pairs(frames: 4, channels: 3, side: 16, seed: 1)
        let got = ImageMetrics.psnr(a, b)
        let want = (0..<4).map { Self.referencePSNR(Self.frame(a, $0), Self.frame(b, $0)) }
        #expect(got.count == 4)
        // Both float64 over the same float32 pixels (768 per frame), summed in other orders: MSE off by
        // <= 768 * 2^-53 relative ~ 1e-13, i.e. ~4e-13 dB. 1e-9 dB only absorbs that.
        for (g, w) in zip(got, want) { #expect(abs(g - w) < 1e-9, "\(got) vs \(want)") }
        #expect(want[0] > want[3] + 10, "the noise levels should spread the figures: \(want)")
    }

    @Test("PSNR on 8-bit images equals the usual 10 log10(255^2 / MSE) in 8-bit units")
    func psnrEightBit() {
        var rng = TestRandom(seed: 2)
        let u = (0..<(3 * 8 * 8)).map { _ in Int((abs(rng.normal()) * 60).rounded()) % 256 }
        let v = u.enumerated().map { i, x in min(255, max(0, x + (i % 5) - 2)) }
        let mse255 = zip(u, v).map { Double(($0 - $1) * ($0 - $1)) }.reduce(0, +) / Double(u.count)
        let a = Tensor(shape: [1, 3, 8, 8], values: u.map { Float($0) / 127.5 - 1 })
        let b = Tensor(shape: [1, 3, 8, 8], values: v.map { Float($0) / 127.5 - 1 })
        let got = ImageMetrics.psnr(a, b)[0]
        // The only error is float32 rounding of u / 127.5 - 1 (<= 2^-24 each, so <= 1.2e-7 on a difference
        // of >= 1 / 127.5): <= 1.5e-5 relative per squared term, <= 3e-5 on the MSE, <= 1.3e-4 dB in the
        // worst case, ~1e-5 dB typical (signs vary over 192 terms). Deterministic (no BLAS); 1e-4 holds it.
        #expect(abs(got - 10 * log10(255 * 255 / mse255)) < 1e-4, "\(got)")
    }

    @Test("Identical images cap at 100 dB, and so do nearly identical ones; values beyond [-1, 1] count as clipped")
    func psnrCap() {
        let (a, _) = Self.pairs(frames: 1, channels: 3, side: 8, seed: 3)
        #expect(ImageMetrics.psnr(a, a) == [100])
        var b = a
        b.withUnsafeMutableBufferPointer { $0[0] += 1e-6 }  // MSE ~ 5e-15: 10 log10(4 / MSE) ~ 149 dB
        #expect(ImageMetrics.psnr(a, b) == [100])
        var c = a
        c.withUnsafeMutableBufferPointer { $0[1] += 0.5 }  // a real difference stays below the cap: MSE <= 0.25 / 192, ~35 dB
        #expect(ImageMetrics.psnr(a, c)[0] < 50)
        let over = Tensor(shape: [1, 1, 2, 2], values: [1.5, -3, 0.25, 1])
        let clipped = Tensor(shape: [1, 1, 2, 2], values: [1, -1, 0.25, 1])
        #expect(ImageMetrics.psnr(over, clipped) == [100])
    }

    @Test("SSIM matches the float64 reference", arguments: [11, 16])
    func ssimMatchesReference(side: Int) {
        let (a, b) = Self.pairs(frames: 3, channels: 3, side: side, seed: 4)
        let got = ImageMetrics.ssim(a, b)
        let want = (0..<3).map { Self.referenceSSIM(Self.frame(a, $0), Self.frame(b, $0), channels: 3, height: side, width: side) }
        // Float64 both, one-pass (E[x^2] - mx^2) against two-pass moments: |x| <= 1 over 121 taps cancels
        // to ~1e-14 absolute in a variance, divided by >= C2 = 3.6e-3: ~1e-11 in SSIM. 1e-9 absorbs that.
        for (g, w) in zip(got, want) { #expect(abs(g - w) < 1e-9, "\(got) vs \(want)") }
        #expect(want[0] > want[2] + 0.05 && want[0] < 1, "\(want)")
    }

    @Test("SSIM of an image with itself is 1; with a brightness shift, below 1")
    func ssimIdentity() {
        let (a, _) = Self.pairs(frames: 2, channels: 1, side: 12, seed: 5)
        // x = y: numerator and denominator are the same float64 expression up to 2 sxy vs sx^2 + sy^2
        // (a few ulps of a value >= C2): 1 within ~1e-15.
        for v in ImageMetrics.ssim(a, a) { #expect(abs(v - 1) < 1e-12) }
        let shifted = Tensor(shape: a.shape, values: a.scalars.map { $0 + 0.3 })
        let s = ImageMetrics.ssim(a, shifted)
        let want = (0..<2).map { Self.referenceSSIM(Self.frame(a, $0), Self.frame(shifted, $0), channels: 1, height: 12, width: 12) }
        for (g, w) in zip(s, want) { #expect(g < 0.999 && abs(g - w) < 1e-9, "\(s) vs \(want)") }  // as in ssimMatchesReference
    }
}
