/// Laplacian-pyramid L1, the "Lap1" loss of GLO (Bojanowski, Joulin, Lopez-Paz & Szlam, "Optimizing the
/// Latent Space of Generative Networks", ICML 2018): Lap1(x, y) = sum over j of 2^(2j) |L^j(x) - L^j(y)|_1,
/// with L^j the j-th level of the Laplacian pyramid and |.|_1 the sum over the level's elements.
///
/// Level j has 4^-j as many elements as the image, so dividing by the image's element count turns
/// 2^(2j) |.|_1 into the plain mean over level j: per sample,
///
///     loss_n = sum over j = 0 ... J of mean over (c, h, w) of |L^j(x_n) - L^j(y_n)|,
///
/// the form the public reimplementations compute (mtyka/laploss, tneumann/minimal_glo: one
/// `l1_loss(mean)` per level, summed with equal weights), and independent of the image size.
///
/// The pyramid is Burt & Adelson's (1983), with their 5-tap generating kernel [1, 4, 6, 4, 1] / 16
/// applied separably with mirror ('reflect') borders:
///     G^0 = x,  G^{j+1} = blur(G^j)[::2, ::2],  L^j = G^j - 4 blur(zero-upsampled G^{j+1})  (j < J),
///     L^J = G^J, the low-pass residual.
/// J (the number of band-pass levels) is the largest that keeps the residual's side at least 8: 3 at
/// 64 px (bands at 64, 32, 16, residual 8 x 8, like minimal_glo's `LapLoss(max_levels=3)` at GLO's
/// 64 px), 5 at 256 px. The reimplementations differ in the kernel (their sigma-2 kernel, and a
/// difference-of-Gaussians band instead of the upsampled one); linstory keeps the textbook pyramid.
///
/// The pyramid is linear, so L^j(x) - L^j(y) = L^j(x - y): one pyramid of the difference per call, and
/// the gradient is the pyramid's transpose applied to sign(L^j) (sign(0) = 0).
public struct LaplacianPyramidL1Loss: ImageLoss {
    /// Burt & Adelson's generating kernel (a = 0.375), applied along rows and columns.
    public static let kernel: [Float] = [1, 4, 6, 4, 1].map { $0 / 16 }
    /// The automatic level count keeps the low-pass residual at least this many pixels on a side.
    public static let minimumResidualSide = 8

    /// Band-pass levels J; nil picks `bandCount(height:width:)` for each image size.
    public let bands: Int?

    public var name: String { "lap" }

    private let scratch = LossScratch()

    public init(bands: Int? = nil) {
        if let bands { precondition(bands >= 0, "the Laplacian pyramid needs a non-negative level count") }
        self.bands = bands
    }

    /// The most band-pass levels that keep the residual's side >= `minimumResidualSide` (0 for small images).
    public static func bandCount(height: Int, width: Int) -> Int {
        var side = min(height, width)
        var levels = 0
        while (side + 1) / 2 >= minimumResidualSide {
            side = (side + 1) / 2
            levels += 1
        }
        return levels
    }

    public func evaluate(
        _ prediction: Tensor, _ target: Tensor, accumulatingGradient gradient: inout Tensor?, scale: Float
    ) -> [Float] {
        let (n, c, h, w) = imageLossDimensions(name, prediction, target, gradient)
        let levels = bands ?? Self.bandCount(height: h, width: w)
        let plan = Plan(h: h, w: w, bands: levels)
        if gradient != nil {
            return gradient!.withUnsafeMutableBufferPointer { g in
                run(prediction, target, n: n, c: c, plan: plan, gradient: g.baseAddress!, scale: scale)
            }
        }
        return run(prediction, target, n: n, c: c, plan: plan, gradient: nil, scale: 0)
    }

    // MARK: - Implementation

    private struct Plan {
        var bands = 0
        var h: [Int] = [], w: [Int] = []  // G^j is h[j] x w[j], j = 0 ... bands
        var gaussian: [Int] = []  // G^j, later d/d G^j
        var laplacian: [Int] = []  // L^j (j < bands), later d/d L^j
        var temp = 0  // three planes of the image's size
        var total = 0

        init(h h0: Int, w w0: Int, bands: Int) {
            self.bands = bands
            var offset = 0
            var hs = h0, ws = w0
            for j in 0...bands {
                if j < bands {
                    precondition(
                        min(hs, ws) >= 3,
                        "Laplacian pyramid: \(bands) levels are too many for \(h0) x \(w0) images (level \(j) is \(hs) x \(ws))")
                }
                h.append(hs); w.append(ws)
                gaussian.append(offset); offset += hs * ws
                if j < bands { laplacian.append(offset); offset += hs * ws }
                hs = (hs + 1) / 2
                ws = (ws + 1) / 2
            }
            temp = offset
            offset += 3 * h0 * w0
            total = offset
        }
    }

    /// Per-sample losses; with `gradient`, adds `scale` times their gradient into it.
    private func run(
        _ x: Tensor, _ y: Tensor, n: Int, c: Int, plan: Plan, gradient: UnsafeMutablePointer<Float>?, scale: Float
    ) -> [Float] {
        let size = plan.h[0] * plan.w[0]
        var losses = [Float](repeating: 0, count: n)
        x.withUnsafeBufferPointer { p in
            y.withUnsafeBufferPointer { t in
                scratch.withBuffer(count: plan.total) { buffer in
                    Self.kernel.withUnsafeBufferPointer { k in
                        for sample in 0..<n {
                            var sum: Double = 0
                            for channel in 0..<c {
                                let offset = (sample * c + channel) * size
                                sum += Self.plane(
                                    p.baseAddress! + offset, t.baseAddress! + offset, plan: plan, buffer: buffer,
                                    k: k.baseAddress!, gradient: gradient.map { $0 + offset }, outer: scale / Float(c))
                            }
                            losses[sample] = Float(sum / Double(c))
                        }
                    }
                }
            }
        }
        return losses
    }

    /// One channel plane: sum over levels of mean |L^j(x - y)|; with `gradient`, adds `outer` times its
    /// derivative with respect to x.
    private static func plane(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, plan: Plan, buffer: UnsafeMutablePointer<Float>,
        k: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>?, outer: Float
    ) -> Double {
        let levels = plan.bands
        let t0 = buffer + plan.temp
        let size0 = plan.h[0] * plan.w[0]
        let t1 = t0 + size0, t2 = t1 + size0
        let g0 = buffer + plan.gaussian[0]
        for i in 0..<size0 { g0[i] = x[i] - y[i] }

        // Forward: G^{j+1} = S(blur G^j), L^j = G^j - 4 blur(Z G^{j+1}).
        for j in 0..<levels {
            let h = plan.h[j], w = plan.w[j]
            let gj = buffer + plan.gaussian[j], next = buffer + plan.gaussian[j + 1], lj = buffer + plan.laplacian[j]
            blur(gj, h: h, w: w, k: k, temp: t1, into: t0)
            subsample(t0, h: h, w: w, into: next)
            zeroUpsample(next, h: h, w: w, into: t0)
            blur(t0, h: h, w: w, k: k, temp: t1, into: lj)
            for i in 0..<(h * w) { lj[i] = gj[i] - 4 * lj[i] }
        }
        var value: Double = 0
        for j in 0...levels {
            let level = buffer + (j < levels ? plan.laplacian[j] : plan.gaussian[levels])
            let count = plan.h[j] * plan.w[j]
            var sum: Double = 0
            var i = 0
            while i < count {
                let end = min(i + 1024, count)
                var block: Float = 0
                for e in i..<end { block += abs(level[e]) }
                sum += Double(block)
                i = end
            }
            value += sum / Double(count)
        }
        guard let gradient, outer != 0 else { return value }

        // Backward, levels in place: d/dL^j = outer sign(L^j) / |L^j|, then
        //   acc_{j+1} -= E^T(dL^j),  d/dG^j = dL^j + R^T(acc_{j+1}),
        // with E = 4 blur . Z (so E^T = 4 S . blur^T) and R = S . blur (so R^T = blur^T . Z).
        for j in 0...levels {
            let level = buffer + (j < levels ? plan.laplacian[j] : plan.gaussian[levels])
            let count = plan.h[j] * plan.w[j]
            let step = outer / Float(count)
            for i in 0..<count { level[i] = level[i] > 0 ? step : (level[i] < 0 ? -step : 0) }
        }
        for j in stride(from: levels - 1, through: 0, by: -1) {
            let h = plan.h[j], w = plan.w[j]
            let acc = buffer + plan.gaussian[j + 1], dl = buffer + plan.laplacian[j], gj = buffer + plan.gaussian[j]
            blurTranspose(dl, h: h, w: w, k: k, temp: t1, into: t0)
            let oh = plan.h[j + 1], ow = plan.w[j + 1]
            for r in 0..<oh { for col in 0..<ow { acc[r * ow + col] -= 4 * t0[(2 * r) * w + 2 * col] } }
            zeroUpsample(acc, h: h, w: w, into: t0)
            blurTranspose(t0, h: h, w: w, k: k, temp: t1, into: t2)
            for i in 0..<(h * w) { gj[i] = dl[i] + t2[i] }
        }
        for i in 0..<size0 { gradient[i] += g0[i] }
        return value
    }

    /// Mirror index without repeating the edge (NumPy / PyTorch 'reflect'); valid for n >= 3, |overhang| <= 2.
    @inline(__always)
    private static func reflect(_ i: Int, _ n: Int) -> Int {
        i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i)
    }

    /// dst = the separable 5-tap blur of src (h x w), reflect borders; `temp` holds h x w floats.
    private static func blur(
        _ src: UnsafePointer<Float>, h: Int, w: Int, k: UnsafePointer<Float>, temp: UnsafeMutablePointer<Float>,
        into dst: UnsafeMutablePointer<Float>
    ) {
        // Columns (along H), vectorised over each row.
        for i in 0..<h {
            let out = temp + i * w
            let r0 = src + reflect(i - 2, h) * w, r1 = src + reflect(i - 1, h) * w, r2 = src + i * w
            let r3 = src + reflect(i + 1, h) * w, r4 = src + reflect(i + 2, h) * w
            for j in 0..<w { out[j] = k[0] * r0[j] + k[1] * r1[j] + k[2] * r2[j] + k[3] * r3[j] + k[4] * r4[j] }
        }
        // Rows (along W): the interior in one branch-free loop, the two columns at each edge through `reflect`.
        let k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3], k4 = k[4]
        for i in 0..<h {
            let row = temp + i * w, out = dst + i * w
            if w > 4 {
                for j in 2..<(w - 2) {
                    out[j] = k0 * row[j - 2] + k1 * row[j - 1] + k2 * row[j] + k3 * row[j + 1] + k4 * row[j + 2]
                }
            }
            for j in Self.ends(w, width: 2) {
                var v: Float = 0
                for t in 0..<5 { v += k[t] * row[reflect(j + t - 2, w)] }
                out[j] = v
            }
        }
    }

    /// dst = blur^T(src): the transpose of `blur` (rows then columns, reflected taps folded back).
    private static func blurTranspose(
        _ src: UnsafePointer<Float>, h: Int, w: Int, k: UnsafePointer<Float>, temp: UnsafeMutablePointer<Float>,
        into dst: UnsafeMutablePointer<Float>
    ) {
        // Rows transposed: temp[i, reflect(j + t - 2)] += k[t] src[i, j]; interior outputs gather their
        // five inputs directly, the two columns at each edge scatter through `reflect`.
        temp.update(repeating: 0, count: h * w)
        let k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3], k4 = k[4]
        for i in 0..<h {
            let row = src + i * w, out = temp + i * w
            // Inputs 2 ..< w-2 reach outputs j-2 ... j+2 without reflection; written as a gather over the
            // outputs they reach, for outputs 4 ..< w-4 that all five come from interior inputs.
            if w > 8 {
                for j in 4..<(w - 4) {
                    out[j] = k4 * row[j - 2] + k3 * row[j - 1] + k2 * row[j] + k1 * row[j + 1] + k0 * row[j + 2]
                }
            }
            // The other outputs (at most four at each end) from the interior inputs that reach them.
            for j in Self.ends(w, width: w > 8 ? 4 : w) {
                for t in 0..<5 {
                    let input = j - (t - 2)
                    if input >= 2 && input < w - 2 { out[j] += k[t] * row[input] }
                }
            }
            for j in Self.ends(w, width: 2) {
                let v = row[j]
                for t in 0..<5 { out[reflect(j + t - 2, w)] += k[t] * v }
            }
        }
        // Columns transposed: dst[reflect(i + t - 2), :] += k[t] temp[i, :].
        dst.update(repeating: 0, count: h * w)
        for i in 0..<h {
            let row = temp + i * w
            for t in 0..<5 {
                let out = dst + reflect(i + t - 2, h) * w
                let kt = k[t]
                for j in 0..<w { out[j] += kt * row[j] }
            }
        }
    }

    /// The first and last `width` indices of 0 ..< n, each once, in order (all of them when n <= 2 width).
    @inline(__always)
    private static func ends(_ n: Int, width: Int) -> Ends { Ends(n: n, width: width) }

    struct Ends: Sequence, IteratorProtocol {
        let n: Int, width: Int
        var position = 0
        mutating func next() -> Int? {
            guard position < n else { return nil }
            let j = position
            position = (j + 1 == width && n - width > width) ? n - width : j + 1
            return j
        }
    }

    /// dst (ceil(h/2) x ceil(w/2)) = src[::2, ::2].
    private static func subsample(_ src: UnsafePointer<Float>, h: Int, w: Int, into dst: UnsafeMutablePointer<Float>) {
        let oh = (h + 1) / 2, ow = (w + 1) / 2
        for r in 0..<oh { for c in 0..<ow { dst[r * ow + c] = src[(2 * r) * w + 2 * c] } }
    }

    /// dst (h x w) = src (ceil(h/2) x ceil(w/2)) at even positions, zeros elsewhere.
    private static func zeroUpsample(_ src: UnsafePointer<Float>, h: Int, w: Int, into dst: UnsafeMutablePointer<Float>) {
        let oh = (h + 1) / 2, ow = (w + 1) / 2
        dst.update(repeating: 0, count: h * w)
        for r in 0..<oh { for c in 0..<ow { dst[(2 * r) * w + 2 * c] = src[r * ow + c] } }
    }
}
