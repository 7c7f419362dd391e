// PTI's locality regulariser (Roich et al. 2022, "space regulariser"): latents a fixed distance from
// the pivots towards random ones, whose images the tuned generator must keep as the untuned one drew
// them, so the tuning changes the scene's neighbourhood of W and little else.
//
// Dimension letters: K latents per regulariser step, P in the pool, F pivots, L = num_ws, D = w_dim,
// C x R x R an image.

/// The regulariser's latents w_r and the untuned generator's images of them, a batch at a time.
final class LocalityRegularizer: @unchecked Sendable {
    let base: Generator
    let settings: SceneTuningSettings
    let pivots: Tensor  // [F, L, D]
    /// The distance of w_r from its pivot over the whole [L, D] latent: PTI's alpha.
    let alpha: Float
    let batch: Int  // K
    /// Renders the untuned images; shapes only, so it serves the tuned generator's forwards too.
    let workspace: SynthesisWorkspace
    private var pool: (latents: Tensor, images: Tensor)?  // [P, L, D], [P, C, R, R]
    private var draws = 0

    init(base: Generator, pivots: Tensor, wStd: Float, settings: SceneTuningSettings) {
        self.base = base
        self.settings = settings
        self.pivots = pivots
        alpha = settings.localityRadius * wStd * Float(base.config.numWs).squareRoot()
        batch = settings.localityBatch
        workspace = SynthesisWorkspace(network: base.synthesis, batch: settings.localityBatch)
        if settings.localityPool > 0 {
            // Rendered once: a regulariser step then costs the tuned generator's forward and backward only.
            let rounds = (settings.localityPool + batch - 1) / batch
            var latents: [Tensor] = [], images: [Tensor] = []
            for _ in 0..<rounds {
                let ws = draw()
                latents.append(ws)
                images.append(base.synthesis.forward(ws, noise: .none, workspace: workspace))
            }
            pool = (Tensor.concatenate(latents), Tensor.concatenate(images))
        }
    }

    /// Regulariser step `index`'s latents [K, L, D] and the untuned images of them [K, C, R, R]:
    /// the pool's next K (cycling), or K fresh ones rendered now.
    func next(_ index: Int) -> (latents: Tensor, untuned: Tensor) {
        if let pool {
            let p = pool.latents.shape[0]
            let rows = (0..<batch).map { (index * batch + $0) % p }
            return (Tensor.concatenate(rows.map { pool.latents.slice($0..<($0 + 1)) }), Tensor.concatenate(rows.map { pool.images.slice($0..<($0 + 1)) }))
        }
        let ws = draw()
        return (ws, base.synthesis.forward(ws, noise: .none, workspace: workspace))
    }

    /// K latents w_r = w_p + alpha (w_z - w_p) / |w_z - w_p|: w_z = mapping(z) truncated with
    /// `localityPsi`, w_p a pivot drawn with it; each draw from its own stream of the seed.
    private func draw() -> Tensor {
        let (l, d) = (base.config.numWs, base.config.wDim)
        let f = pivots.shape[0]
        var rng = GaussianNoise(seed: settings.seed, stream: -1 - draws)
        draws += 1
        let z = Tensor(shape: [batch, base.config.zDim]) { rng.fill($0.baseAddress!, count: $0.count) }
        let wz = base.mapping(z, truncationPsi: settings.localityPsi)  // [K, L, D]
        let chosen = (0..<batch).map { _ in Int(rng.nextUInt64() % UInt64(f)) }
        return Tensor(shape: [batch, l, d]) { out in
            wz.withUnsafeBufferPointer { w in
                pivots.withUnsafeBufferPointer { p in
                    for k in 0..<batch {
                        let pw = p.baseAddress! + chosen[k] * l * d
                        let zw = w.baseAddress! + k * l * d
                        var norm: Double = 0
                        for i in 0..<(l * d) { norm += Double(zw[i] - pw[i]) * Double(zw[i] - pw[i]) }
                        let scale = alpha / Float(max(norm.squareRoot(), 1e-12))
                        for i in 0..<(l * d) { out[k * l * d + i] = pw[i] + scale * (zw[i] - pw[i]) }
                    }
                }
            }
        }
    }

    /// The mean over the K images of the mean squared difference (PTI's `l2_loss`), and adds `scale`
    /// times its gradient with respect to `images` into `gradient` (both [K, C, R, R]).
    static func meanSquaredDifference(_ images: Tensor, _ untuned: Tensor, scale: Float, gradient: inout Tensor) -> Float {
        var sum: Double = 0
        let g = 2 * scale / Float(images.count)
        images.withUnsafeBufferPointer { x in
            untuned.withUnsafeBufferPointer { y in
                gradient.withUnsafeMutableBufferPointer { gr in
                    for i in 0..<x.count {
                        let diff = x[i] - y[i]
                        sum += Double(diff * diff)
                        gr[i] += g * diff
                    }
                }
            }
        }
        return Float(sum / Double(images.count))
    }
}
