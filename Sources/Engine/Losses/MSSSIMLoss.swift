import Foundation

/// Multi-scale structural similarity (Wang, Simoncelli & Bovik 2003) and the loss 1 - MS-SSIM.
///
/// Computed as pytorch-msssim computes it (VainF/pytorch-msssim `ssim.py`, `_ssim` and `ms_ssim`), which
/// follows Wang et al.'s MATLAB code:
/// - window: 11-tap Gaussian, sigma 1.5, normalised to sum 1, applied separably, 'valid' convolution
///   (no padding: a scale of side S gives an (S - 10)-sided map);
/// - range: images in [-1, 1] are shifted to [0, 2] and the constants are C1 = (K1 L)^2, C2 = (K2 L)^2
///   with K1 = 0.01, K2 = 0.03 and data range L = 2. SSIM is unchanged when both images and L are
///   scaled together, so this is exactly MS-SSIM of the same images as [0, 1] floats with L = 1, or as
///   [0, 255] with L = 255, the way MS-SSIM is normally reported. (The shift matters: the luminance term
///   (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) assumes non-negative intensities; on [-1, 1] values it
///   would collapse around mid-grey, e.g. mu = 0.01 against -0.01 scores 0.33.);
/// - per scale and channel: cs = mean of (2 s_xy + C2) / (s_x^2 + s_y^2 + C2) and
///   ssim = mean of (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) times the same cs map, where mu, s are the
///   window's local means, variances and covariance (no N/(N-1) compensation);
/// - between scales a 2x2 average pool with padding (H mod 2, W mod 2) counting padded zeros, as
///   `F.avg_pool2d(X, kernel_size=2, padding=[s % 2 for s in X.shape[2:]])`;
/// - per channel MS-SSIM = prod over scales s < M-1 of relu(cs_s)^e_s, times relu(ssim_{M-1})^e_{M-1}
///   (the relu is pytorch-msssim's guard against negative values, which a fractional power would turn
///   into NaN); a sample's MS-SSIM is the mean over its channels.
///
/// Scales: the standard five exponents [0.0448, 0.2856, 0.3001, 0.2363, 0.1333] need images of side
/// > 160 (pytorch-msssim asserts it). linstory uses as many scales M (1...5) as keep the coarsest scale's
/// side at least 11 (one window), i.e. 3 at 64 px and 5 at 256 px, and always renormalises the first
/// M exponents to sum to 1 (at 5 scales that divides by 1.0001).
///
/// Gradient: exact for the value above. Where a channel's clamped factor is 0 (some cs or the last ssim
/// <= 0), that channel's MS-SSIM is 0 and flat, and its gradient is 0 (relu's derivative; PyTorch's
/// autograd gives the same). Near 0 from above the power e * v^(e - 1) is steep but finite; the
/// channel scalars are combined in double precision.
public struct MSSSIMLoss: ImageLoss {
    /// Wang et al.'s exponents, finest scale first.
    public static let standardExponents: [Double] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
    public static let windowSize = 11
    public static let windowSigma = 1.5
    /// The data range L of the shifted images (x + 1 in [0, 2]).
    public static let dataRange = 2.0
    public static let c1 = (0.01 * dataRange) * (0.01 * dataRange)
    public static let c2 = (0.03 * dataRange) * (0.03 * dataRange)

    public var name: String { "msssim" }

    private let window: [Float]
    private let scratch = LossScratch()

    public init() {
        window = Self.gaussianWindow().map { Float($0) }
    }

    /// The 1-D window, as pytorch-msssim's `_fspecial_gauss_1d(11, 1.5)`.
    public static func gaussianWindow() -> [Double] {
        let half = windowSize / 2
        let g = (0..<windowSize).map { i -> Double in
            let d = Double(i - half)
            return Foundation.exp(-(d * d) / (2 * windowSigma * windowSigma))
        }
        let sum = g.reduce(0, +)
        return g.map { $0 / sum }
    }

    /// How many scales an H x W image gets: the most (up to 5) that keep the coarsest side >= 11.
    public static func scaleCount(height: Int, width: Int) -> Int {
        precondition(
            min(height, width) >= windowSize,
            "MS-SSIM needs images of at least \(windowSize) x \(windowSize) pixels, got \(height) x \(width)")
        var side = min(height, width)
        var scales = 1
        while scales < standardExponents.count && (side + 1) / 2 >= windowSize {
            side = (side + 1) / 2
            scales += 1
        }
        return scales
    }

    /// The first `scales` standard exponents, renormalised to sum to 1.
    public static func exponents(scales: Int) -> [Double] {
        precondition((1...standardExponents.count).contains(scales), "MS-SSIM has 1 to 5 scales, not \(scales)")
        let used = Array(standardExponents.prefix(scales))
        let sum = used.reduce(0, +)
        return used.map { $0 / sum }
    }

    /// MS-SSIM per sample [N] of two [N, C, H, W] batches in [-1, 1] (1 for identical images).
    public func similarity(_ x: Tensor, _ y: Tensor) -> [Float] {
        let (n, c, h, w) = imageLossDimensions("msssim", x, y, nil)
        return run(x, y, n: n, c: c, h: h, w: w, gradient: nil, scale: 0)
    }

    /// Per-sample 1 - MS-SSIM.
    public func evaluate(
        _ prediction: Tensor, _ target: Tensor, accumulatingGradient gradient: inout Tensor?, scale: Float
    ) -> [Float] {
        let (n, c, h, w) = imageLossDimensions(name, prediction, target, gradient)
        let similarity: [Float]
        if gradient != nil {
            similarity = gradient!.withUnsafeMutableBufferPointer { g in
                run(prediction, target, n: n, c: c, h: h, w: w, gradient: g.baseAddress!, scale: scale)
            }
        } else {
            similarity = run(prediction, target, n: n, c: c, h: h, w: w, gradient: nil, scale: 0)
        }
        return similarity.map { 1 - $0 }
    }

    // MARK: - Implementation

    /// Sizes and scratch offsets for one channel plane (all planes of a batch share them).
    private struct Plan {
        var scales = 0
        var exponents: [Double] = []
        var h: [Int] = [], w: [Int] = []  // side of scale s
        var oh: [Int] = [], ow: [Int] = []  // side of its 'valid' window maps (h - 10)
        var pyramid: [Int] = []  // x + 1 and y + 1 at scale s (x at offset, y at offset + h*w)
        var maps: [Int] = []  // five maps per scale, about the plane means: mu~_x, mu~_y, E[x~^2], E[y~^2], E[x~y~]
        var grads: [Int] = []  // d/d x of scale s
        var horizontal = 0  // five horizontally filtered maps, h * ow each (largest scale)
        var rows = 0  // five rows of w floats
        var total = 0

        init(h h0: Int, w w0: Int) {
            scales = MSSSIMLoss.scaleCount(height: h0, width: w0)
            exponents = MSSSIMLoss.exponents(scales: scales)
            var offset = 0
            var hs = h0, ws = w0
            for s in 0..<scales {
                h.append(hs); w.append(ws)
                oh.append(hs - MSSSIMLoss.windowSize + 1); ow.append(ws - MSSSIMLoss.windowSize + 1)
                pyramid.append(offset); offset += 2 * hs * ws
                maps.append(offset); offset += 5 * oh[s] * ow[s]
                grads.append(offset); offset += hs * ws
                hs = (hs + 1) / 2
                ws = (ws + 1) / 2
            }
            horizontal = offset; offset += 5 * h0 * ow[0]
            rows = offset; offset += 5 * w0
            total = offset
        }
    }

    /// MS-SSIM per sample; when `gradient` is given, adds -scale * d(sum of MS-SSIM)/dx into it
    /// (the gradient of the loss 1 - MS-SSIM).
    private func run(
        _ x: Tensor, _ y: Tensor, n: Int, c: Int, h: Int, w: Int,
        gradient: UnsafeMutablePointer<Float>?, scale: Float
    ) -> [Float] {
        let plan = Plan(h: h, w: w)
        var result = [Float](repeating: 0, count: n)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeBufferPointer { yb in
                scratch.withBuffer(count: plan.total) { buffer in
                    window.withUnsafeBufferPointer { g in
                        for sample in 0..<n {
                            var sum: Double = 0
                            for channel in 0..<c {
                                let offset = (sample * c + channel) * h * w
                                sum += plane(
                                    xb.baseAddress! + offset, yb.baseAddress! + offset, plan: plan, buffer: buffer,
                                    g: g.baseAddress!, gradient: gradient.map { $0 + offset },
                                    outer: -Double(scale) / Double(c))
                            }
                            result[sample] = Float(sum / Double(c))
                        }
                    }
                }
            }
        }
        return result
    }

    /// One channel plane: its MS-SSIM, and when `gradient` is given, `outer` * d MS-SSIM / dx added into it.
    private func plane(
        _ x0: UnsafePointer<Float>, _ y0: UnsafePointer<Float>, plan: Plan, buffer: UnsafeMutablePointer<Float>,
        g: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>?, outer: Double
    ) -> Double {
        let m = plan.scales
        // Scale s of x + 1 and y + 1, all in the scratch.
        func xAt(_ s: Int) -> UnsafePointer<Float> { UnsafePointer(buffer + plan.pyramid[s]) }
        func yAt(_ s: Int) -> UnsafePointer<Float> { UnsafePointer(buffer + plan.pyramid[s] + plan.h[s] * plan.w[s]) }
        let shiftedX = buffer + plan.pyramid[0], shiftedY = shiftedX + plan.h[0] * plan.w[0]
        for i in 0..<(plan.h[0] * plan.w[0]) {
            shiftedX[i] = x0[i] + 1
            shiftedY[i] = y0[i] + 1
        }
        for s in 1..<max(m, 1) {
            Self.pool(xAt(s - 1), h: plan.h[s - 1], w: plan.w[s - 1], into: buffer + plan.pyramid[s])
            Self.pool(yAt(s - 1), h: plan.h[s - 1], w: plan.w[s - 1], into: buffer + plan.pyramid[s] + plan.h[s] * plan.w[s])
        }

        // factors[s]: cs or ssim of scale s; factors[m + 2s], [m + 2s + 1]: the plane means of x and y at s.
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * m) { factors -> Double in
            // Forward: cs at every scale but the last, ssim at the last (pytorch-msssim keeps those).
            for s in 0..<m {
                let count = plan.h[s] * plan.w[s]
                let mx = Self.mean(xAt(s), count: count), my = Self.mean(yAt(s), count: count)
                factors[m + 2 * s] = Double(mx)
                factors[m + 2 * s + 1] = Double(my)
                let (cs, ssim) = windowMaps(
                    xAt(s), yAt(s), means: (mx, my), h: plan.h[s], w: plan.w[s], plan: plan, scale: s, buffer: buffer,
                    g: g)
                factors[s] = s == m - 1 ? ssim : cs
            }
            var value = 1.0
            for s in 0..<m { value *= factors[s] > 0 ? Foundation.pow(factors[s], plan.exponents[s]) : 0 }
            guard let gradient, value > 0, outer != 0 else { return value }

            // Backward: d value / d factor_s = value * e_s / factor_s, then through each scale's maps and
            // the pooling, coarse to fine.
            for s in 0..<m {
                let grad = buffer + plan.grads[s]
                grad.update(repeating: 0, count: plan.h[s] * plan.w[s])
                let coefficient = outer * value * plan.exponents[s] / factors[s]
                windowMapsBackward(
                    xAt(s), yAt(s), means: (Float(factors[m + 2 * s]), Float(factors[m + 2 * s + 1])), h: plan.h[s], w: plan.w[s], plan: plan, scale: s, buffer: buffer, g: g,
                    coefficient: coefficient, last: s == m - 1, into: grad)
            }
            for s in stride(from: m - 1, to: 0, by: -1) {
                Self.poolBackward(
                    buffer + plan.grads[s], h: plan.h[s - 1], w: plan.w[s - 1], into: buffer + plan.grads[s - 1])
            }
            let g0 = buffer + plan.grads[0]
            for i in 0..<(plan.h[0] * plan.w[0]) { gradient[i] += g0[i] }
            return value
        }
    }

    /// The five window maps of scale `s` (kept in the plan's slots for the backward pass) and the
    /// means of its cs and ssim maps.
    ///
    /// The second moments are taken about the planes' means (`means`): the variances and covariance do
    /// not depend on that shift, and centring keeps E[x^2] - mu^2 from cancelling catastrophically in
    /// float32 (on flat regions of images near the top of the range that error would reach 1e-4 in cs).
    /// The maps therefore hold centred local means mu~ = mu - mean; the luminance term adds the mean back.
    private func windowMaps(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, means: (Float, Float), h: Int, w: Int, plan: Plan,
        scale s: Int, buffer: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>
    ) -> (cs: Double, ssim: Double) {
        let k = Self.windowSize
        let oh = plan.oh[s], ow = plan.ow[s]
        let hor = buffer + plan.horizontal  // 5 maps of h x ow
        let rows = buffer + plan.rows  // x~, y~, x~^2, y~^2, x~y~ of one row
        let maps = buffer + plan.maps[s]  // 5 maps of oh x ow
        let hc = h * ow, oc = oh * ow
        let (mx, my) = means

        // Horizontal pass over x~, y~, x~^2, y~^2, x~y~.
        for r in 0..<h {
            let xr = x + r * w, yr = y + r * w
            let xc = rows, yc = rows + w, xx = rows + 2 * w, yy = rows + 3 * w, xy = rows + 4 * w
            for j in 0..<w {
                let u = xr[j] - mx, v = yr[j] - my
                xc[j] = u
                yc[j] = v
                xx[j] = u * u
                yy[j] = v * v
                xy[j] = u * v
            }
            let hor0 = hor + r * ow
            Self.correlate(xc, g: g, taps: k, into: hor0, count: ow)
            Self.correlate(yc, g: g, taps: k, into: hor0 + hc, count: ow)
            Self.correlate(xx, g: g, taps: k, into: hor0 + 2 * hc, count: ow)
            Self.correlate(yy, g: g, taps: k, into: hor0 + 3 * hc, count: ow)
            Self.correlate(xy, g: g, taps: k, into: hor0 + 4 * hc, count: ow)
        }
        // Vertical pass.
        for index in 0..<5 {
            let src = hor + index * hc
            let dst = maps + index * oc
            for i in 0..<oh {
                let out = dst + i * ow
                let g0 = g[0]
                let first = src + i * ow
                for j in 0..<ow { out[j] = g0 * first[j] }
                for t in 1..<k {
                    let gt = g[t]
                    let row = src + (i + t) * ow
                    for j in 0..<ow { out[j] += gt * row[j] }
                }
            }
        }
        // Per-pixel luminance and contrast-structure terms.
        let c1 = Float(Self.c1), c2 = Float(Self.c2)
        let mu1 = maps, mu2 = maps + oc, exx = maps + 2 * oc, eyy = maps + 3 * oc, exy = maps + 4 * oc
        var csSum: Double = 0, ssimSum: Double = 0
        for i in 0..<oh {
            var csRow: Float = 0, ssimRow: Float = 0
            for j in (i * ow)..<((i + 1) * ow) {
                let m1 = mu1[j], m2 = mu2[j]
                let s11 = exx[j] - m1 * m1, s22 = eyy[j] - m2 * m2, s12 = exy[j] - m1 * m2
                let cs = (2 * s12 + c2) / (s11 + s22 + c2)
                let l1 = m1 + mx, l2 = m2 + my
                let l = (2 * l1 * l2 + c1) / (l1 * l1 + l2 * l2 + c1)
                csRow += cs
                ssimRow += l * cs
            }
            csSum += Double(csRow)
            ssimSum += Double(ssimRow)
        }
        return (csSum / Double(oc), ssimSum / Double(oc))
    }

    /// Adds `coefficient` * d(mean cs map)/dx (or d(mean ssim map)/dx when `last`) of scale `s` into `out`.
    /// The plane means are constants here: the value does not depend on them (see `windowMaps`).
    private func windowMapsBackward(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, means: (Float, Float), h: Int, w: Int, plan: Plan,
        scale s: Int, buffer: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, coefficient: Double, last: Bool,
        into out: UnsafeMutablePointer<Float>
    ) {
        let k = Self.windowSize
        let oh = plan.oh[s], ow = plan.ow[s]
        let oc = oh * ow
        let maps = buffer + plan.maps[s]
        let mu1 = maps, mu2 = maps + oc, exx = maps + 2 * oc, eyy = maps + 3 * oc, exy = maps + 4 * oc
        let c1 = Float(Self.c1), c2 = Float(Self.c2)
        let f = Float(coefficient / Double(oc))
        let (mx, my) = means

        // d/d(mu~_x, E[x~^2], E[x~y~]) per pixel, written over those three maps (mu_y and E[y^2] are not
        // needed: the target is a constant).
        for j in 0..<oc {
            let m1 = mu1[j], m2 = mu2[j]
            let s11 = exx[j] - m1 * m1, s22 = eyy[j] - m2 * m2, s12 = exy[j] - m1 * m2
            let a2 = 2 * s12 + c2, b2 = s11 + s22 + c2
            let inv2 = 1 / b2
            let cs = a2 * inv2
            // d cs / d(s11) = -a2/b2^2, d cs / d(s12) = 2/b2; s11 = E[x~^2] - mu~1^2, s12 = E[x~y~] - mu~1 mu~2.
            let dcsExx = -cs * inv2
            let dcsExy = 2 * inv2
            let dcsMu1 = dcsExx * (-2 * m1) + dcsExy * (-m2)
            if last {
                let l1 = m1 + mx, l2 = m2 + my
                let a1 = 2 * l1 * l2 + c1, b1 = l1 * l1 + l2 * l2 + c1
                let inv1 = 1 / b1
                let l = a1 * inv1
                let dlMu1 = (2 * l2 - 2 * l1 * l) * inv1
                mu1[j] = f * (dlMu1 * cs + l * dcsMu1)
                exx[j] = f * l * dcsExx
                exy[j] = f * l * dcsExy
            } else {
                mu1[j] = f * dcsMu1
                exx[j] = f * dcsExx
                exy[j] = f * dcsExy
            }
        }
        // Transposed vertical pass: three maps of h x ow, into the horizontal slots.
        let hor = buffer + plan.horizontal
        let hc = h * ow
        for index in 0..<3 {
            let src = index == 0 ? mu1 : (index == 1 ? exx : exy)
            let dst = hor + index * hc
            dst.update(repeating: 0, count: hc)
            for i in 0..<oh {
                let gi = src + i * ow
                for t in 0..<k {
                    let gt = g[t]
                    let row = dst + (i + t) * ow
                    for j in 0..<ow { row[j] += gt * gi[j] }
                }
            }
        }
        // Transposed horizontal pass, one row at a time, combined into d/dx:
        // dx = T(g_mu1) + 2 x T(g_xx) + y T(g_xy).
        let rows = buffer + plan.rows
        for r in 0..<h {
            let xr = x + r * w, yr = y + r * w
            for index in 0..<3 {
                let src = hor + index * hc + r * ow
                let dst = rows + index * w
                dst.update(repeating: 0, count: w)
                for t in 0..<k {
                    let gt = g[t]
                    let shifted = dst + t
                    for j in 0..<ow { shifted[j] += gt * src[j] }
                }
            }
            let tMu = rows, tXX = rows + w, tXY = rows + 2 * w
            let o = out + r * w
            for j in 0..<w { o[j] += tMu[j] + 2 * (xr[j] - mx) * tXX[j] + (yr[j] - my) * tXY[j] }
        }
    }
}
