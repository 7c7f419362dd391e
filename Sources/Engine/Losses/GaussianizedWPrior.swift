/// The Gaussianized-W prior of Wulff & Torralba ("Improving Inversion and Generation Diversity in
/// StyleGAN using a Gaussianized Latent Space", 2020), an optional regulariser on w.
///
/// W itself is far from Gaussian, mostly because the mapping network ends in a leaky ReLU. Undoing it,
/// v = gaussianize(w), makes the distribution close to a Gaussian N(mu, Sigma), fitted from the same
/// 10,000 mapping samples as the projector's W statistics (`WStatistics`). The penalty is the squared
/// Mahalanobis distance d^2(w) = (v - mu)^T Sigma^-1 (v - mu), the Gaussian's negative log-likelihood up
/// to a factor 1/2 and a constant; for a typical sample it is about w_dim.
///
/// Undoing the lrelu. NVIDIA's mapping computes w = sqrt(2) lrelu_0.2(a), a the last layer's
/// pre-activation: sqrt(2) a where a > 0 and 0.2 sqrt(2) a where a < 0. "A leaky ReLU with slope 5" on
/// negatives, v = w for w >= 0 and 5 w for w < 0, gives v = sqrt(2) a exactly: the slope is undone and
/// the gain kept. That is what Wulff & Torralba apply to the official (TensorFlow) StyleGAN2 mapping,
/// whose lrelu carries the same sqrt(2) gain, and the gain does not matter: the Mahalanobis distance is
/// unchanged when v, mu and Sigma^(1/2) are scaled alike, and the fit absorbs the scale. linstory keeps
/// v = sqrt(2) a.
///
/// Computation: Sigma + ridge * mean(diag Sigma) * I = L L^T (Cholesky, in double), stored as the
/// whitening matrix L^-1, so d^2 = ||L^-1 (v - mu)||^2, a sum of squares, and its gradient is
/// 2 L^-T L^-1 (v - mu) times dv/dw (1 or 5). The small relative ridge (default 1e-6) keeps the
/// factorisation defined when the samples leave a direction nearly flat; it is scale-free, like the
/// distance.
public struct GaussianizedWPrior: Sendable {
    /// The inverse of the mapping's negative slope 0.2.
    public static let negativeScale: Float = 5

    /// mu [w_dim].
    public let mean: Tensor
    /// L^-1 [w_dim, w_dim], lower triangular.
    private let whitening: Tensor
    private let scratch = LossScratch()

    public var wDim: Int { mean.count }

    /// v for one coordinate of w: w for w >= 0, 5 w below.
    @inline(__always)
    public static func gaussianize(_ w: Float) -> Float { w >= 0 ? w : negativeScale * w }

    /// w for one coordinate of v: the inverse of `gaussianize`.
    @inline(__always)
    public static func ungaussianize(_ v: Float) -> Float { v >= 0 ? v : v / negativeScale }

    /// The w [w_dim] whose Gaussianized value is mu, where the penalty is 0. It is not w_avg: on the
    /// bundled model, w_avg (the projector's starting point) scores d^2 of about 27,000 against a
    /// typical 256, because averaging w and undoing the slope do not commute.
    public var mode: Tensor { Tensor(shape: mean.shape, values: mean.scalars.map(Self.ungaussianize)) }

    /// The prior fitted in `statistics`.
    public init(statistics: WStatistics, ridge: Double = 1e-6) throws {
        try self.init(mean: statistics.gaussianizedMean, covariance: statistics.gaussianizedCovariance, ridge: ridge)
    }

    /// A prior with the given mean [D] and covariance [D, D] of v. Throws if the covariance (plus the
    /// ridge) is not positive definite.
    public init(mean: Tensor, covariance: Tensor, ridge: Double = 1e-6) throws {
        let d = mean.count
        precondition(mean.shape == [d] && covariance.shape == [d, d], "mean must be [D] and covariance [D, D]")
        precondition(ridge >= 0, "the ridge must be non-negative")
        var a = covariance.scalars.map { Double($0) }
        var trace: Double = 0
        for i in 0..<d { trace += a[i * d + i] }
        let lift = ridge * trace / Double(max(d, 1))
        for i in 0..<d { a[i * d + i] += lift }
        // Cholesky: a = L L^T, L lower triangular (row-major, in place).
        var l = [Double](repeating: 0, count: d * d)
        for j in 0..<d {
            var diagonal = a[j * d + j]
            for k in 0..<j { diagonal -= l[j * d + k] * l[j * d + k] }
            guard diagonal > 0, diagonal.isFinite else {
                throw LinstoryError(
                    .invalidValue, "the Gaussianized-W covariance is not positive definite (pivot \(j) of \(d) is \(diagonal)); "
                        + "use more samples or a larger ridge")
            }
            let root = diagonal.squareRoot()
            l[j * d + j] = root
            for i in (j + 1)..<max(d, j + 1) {
                var s = a[i * d + j]
                for k in 0..<j { s -= l[i * d + k] * l[j * d + k] }
                l[i * d + j] = s / root
            }
        }
        // L^-1 by forward substitution, one column at a time.
        var inverse = [Double](repeating: 0, count: d * d)
        for j in 0..<d {
            for i in j..<d {
                var s: Double = i == j ? 1 : 0
                for k in j..<i { s -= l[i * d + k] * inverse[k * d + j] }
                inverse[i * d + j] = s / l[i * d + i]
            }
        }
        self.mean = mean
        self.whitening = Tensor(shape: [d, d], values: inverse.map { Float($0) })
    }

    /// Per-sample penalties for ws [N, D] (W) or [N, L, D] (W+): the mean over the L rows of d^2(w).
    public func evaluate(_ ws: Tensor) -> [Float] {
        var none: Tensor? = nil
        return evaluate(ws, accumulatingGradient: &none, scale: 1)
    }

    /// Per-sample penalties (mean over layers of d^2); when `gradient` is not nil (shaped like `ws`),
    /// adds `scale` * d(sum of the penalties) / d ws into it.
    public func evaluate(_ ws: Tensor, accumulatingGradient gradient: inout Tensor?, scale: Float) -> [Float] {
        let d = wDim
        precondition(
            (ws.rank == 2 || ws.rank == 3) && ws.shape[ws.rank - 1] == d,
            "ws must be [N, \(d)] or [N, L, \(d)], got \(ws.shape)")
        if let g = gradient { precondition(g.shape == ws.shape, "gradient \(g.shape) must be shaped like ws \(ws.shape)") }
        let n = ws.shape[0]
        let layers = ws.rank == 3 ? ws.shape[1] : 1
        let rows = n * layers
        var values = [Float](repeating: 0, count: n)
        guard rows > 0 else { return values }
        ws.withUnsafeBufferPointer { w in
            mean.withUnsafeBufferPointer { mu in
                whitening.withUnsafeBufferPointer { whiten in
                    scratch.withBuffer(count: 2 * rows * d) { buffer in
                        let u = buffer, y = buffer + rows * d
                        for r in 0..<rows {
                            for j in 0..<d { u[r * d + j] = Self.gaussianize(w[r * d + j]) - mu[j] }
                        }
                        // y = L^-1 u per row: Y = U (L^-1)^T.
                        BLAS.sgemm(
                            transB: true, m: rows, n: d, k: d, a: u, lda: d, b: whiten.baseAddress!, ldb: d, c: y, ldc: d)
                        for s in 0..<n {
                            var sum: Double = 0
                            for l in 0..<layers {
                                let row = y + (s * layers + l) * d
                                var sq: Float = 0
                                for j in 0..<d { sq += row[j] * row[j] }
                                sum += Double(sq)
                            }
                            values[s] = Float(sum / Double(layers))
                        }
                        guard gradient != nil, scale != 0 else { return }
                        // d d^2 / d v = 2 L^-T y, per row: 2 Y L^-1.
                        BLAS.sgemm(m: rows, n: d, k: d, a: y, lda: d, b: whiten.baseAddress!, ldb: d, c: u, ldc: d)
                        let factor = 2 * scale / Float(layers)
                        gradient!.withUnsafeMutableBufferPointer { g in
                            for i in 0..<(rows * d) {
                                let slope: Float = w[i] >= 0 ? 1 : Self.negativeScale
                                g[i] += factor * slope * u[i]
                            }
                        }
                    }
                }
            }
        }
        return values
    }
}
