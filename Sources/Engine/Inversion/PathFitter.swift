import Foundation

/// Fits one scene's `ScenePolyline` to its targets: Adam on every vertex and the shared noise maps,
/// a batch of the scene's frames a step. Keeps each frame's loss history across fits.
final class PathFitter {
    let step: ReconstructionStep
    let settings: InversionSettings
    let statistics: WStatistics
    let targets: Tensor  // [n, C, R, R]
    let indices: [Int]
    let observer: InversionObserver?
    var history: [[Float]]
    var rng: GaussianNoise
    let regularizer = NoiseRegularizer()
    /// Fit calls so far: each continues the step count its progress reports.
    private var stepsDone = 0

    init(step: ReconstructionStep, settings: InversionSettings, statistics: WStatistics, targets: Tensor, indices: [Int], observer: InversionObserver?) {
        self.step = step
        self.settings = settings
        self.statistics = statistics
        self.targets = targets
        self.indices = indices
        self.observer = observer
        history = Array(repeating: [], count: targets.shape[0])
        rng = GaussianNoise(seed: settings.seed)
    }

    var numWs: Int { step.generator.config.numWs }
    var wDim: Int { step.generator.config.wDim }
    var rows: Int { settings.space.rows(numWs: numWs) }

    /// The straight line the fit starts from: through the scene's given latents (`--init`, least
    /// squares), else at w_avg. Noise maps start at the model's own const noise, normalised as the
    /// fit keeps them: fresh Gaussian maps, as NVIDIA's projector draws for one frame, cost a whole
    /// scene's frames their fine detail that the shared maps never win back. Measured on ground-truth
    /// footage (a 24-frame shot, budget 200, noise optimisation on): 24.8 dB from fresh maps, 24.7
    /// even when the line starts at the true latents; 37.9 from the model's noise (48.0 with noise
    /// optimisation off, from the truth).
    func initialPath(frames n: Int) -> ScenePolyline {
        let avg = Tensor(shape: [rows, wDim]) { p in
            statistics.wAvg.withUnsafeBufferPointer { a in for r in 0..<rows { for j in 0..<wDim { p[r * wDim + j] = a[j] } } }
        }
        let given = settings.initial.map { $0.line(clipFrames: indices, space: settings.space) }
        var noise: [Tensor]?
        if settings.optimizeNoise {
            noise = step.generator.synthesis.convLayers.map { l in
                var map = l.noiseConst.reshaped([1] + l.noiseConst.shape)
                NoiseRegularizer.normalize(&map)
                return map
            }
        }
        let knots = n > 1 ? [0, n - 1] : [0]
        let vertices = n > 1 ? [given?.start ?? avg, given?.end ?? avg] : [given?.start ?? avg]
        return ScenePolyline(knots: knots, vertices: vertices, noise: noise)
    }

    /// The frames a step renders: all of them, or `batch` spread evenly with a moving offset.
    func frames(count n: Int, step s: Int) -> [Int] {
        let b = step.batch
        if n <= b { return Array(0..<n) }
        return (0..<b).map { j in (j * n / b + s) % n }
    }

    /// `evaluations` frame renders of Adam on the path. `fresh`: NVIDIA's schedule from the start
    /// (ramp-up, w noise unless the start was given); otherwise a continuation from a fitted path:
    /// no ramp-up, no w noise, the cosine ramp-down.
    func fit(_ path: inout ScenePolyline, evaluations: Int, peakLearningRate: Float, fresh: Bool) throws {
        let n = path.frameCount
        let perStep = min(step.batch, n)
        let steps = max(1, evaluations / perStep)
        var schedule = ProjectorSchedule(steps: steps, givenStart: settings.initial != nil || !fresh)
        schedule.initialLearningRate = peakLearningRate
        if !fresh { schedule.lrRampupLength = 1e-6 }
        var adam = path.vertices.map { Adam(count: $0.count) }
        var adamNoise = path.noise?.map { Adam(count: $0.count) } ?? []
        let b = step.batch
        for s in 0..<steps {
            let (lr, wNoise) = schedule.at(s, wStd: statistics.wStd)
            let chosen = frames(count: n, step: s)
            var vertices = path.vertices
            if wNoise > 0 {
                for k in vertices.indices { vertices[k].withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] += rng.next() * wNoise } } }
            }
            let noisy = ScenePolyline(knots: path.knots, vertices: vertices, noise: path.noise)
            // Latents [B, rows, w_dim] along the path; padding rows repeat the last frame.
            let latents = Tensor.concatenate((0..<b).map { k in noisy.latent(atFrame: Float(chosen[min(k, chosen.count - 1)])).reshaped([1, rows, wDim]) })
            let target = Tensor.concatenate(chosen.map { targets.slice($0..<($0 + 1)) }).padded(toRows: b)
            let r = step.run(ws: LatentSpace.broadcast(latents, numWs: numWs), noise: path.noise, targets: target)
            let g = LatentSpace.reduce(r.gradWs, rows: rows)
            var grads = path.vertices.map { Tensor(zeros: $0.shape) }
            let size = rows * wDim
            g.withUnsafeBufferPointer { gp in
                // Only real frames count; padding rows are copies. Each frame's gradient goes to its
                // piece's two vertices, weighted as the lerp weighs them.
                for (k, f) in chosen.enumerated() {
                    let (j, t) = path.place(Float(f))
                    grads[j].withUnsafeMutableBufferPointer { a in for i in 0..<size { a[i] += (path.knots.count > 1 ? 1 - t : 1) * gp[k * size + i] } }
                    if path.knots.count > 1 {
                        grads[j + 1].withUnsafeMutableBufferPointer { e in for i in 0..<size { e[i] += t * gp[k * size + i] } }
                    }
                }
            }
            for k in path.vertices.indices { adam[k].step(&path.vertices[k], gradient: grads[k], lr: lr) }
            if let shared = settings.space.sharedRows(numWs: numWs) {
                // Shared rows hold one value over the whole scene: every vertex gets their mean.
                let range = (shared.lowerBound * wDim)..<(shared.upperBound * wDim)
                var mean = [Float](repeating: 0, count: range.count)
                for v in path.vertices { v.withUnsafeBufferPointer { p in for (o, i) in range.enumerated() { mean[o] += p[i] / Float(path.vertices.count) } } }
                for k in path.vertices.indices { path.vertices[k].withUnsafeMutableBufferPointer { p in for (o, i) in range.enumerated() { p[i] = mean[o] } } }
            }
            if var noise = path.noise {
                // Noise gradients include padding rows; with few frames that only reweights the last one.
                var noiseGrads: [Tensor]? = r.gradNoise
                _ = regularizer.total(noise, accumulatingGradients: &noiseGrads, scale: settings.noiseRegularization)
                for i in noise.indices {
                    adamNoise[i].step(&noise[i], gradient: noiseGrads![i], lr: lr)
                    NoiseRegularizer.normalize(&noise[i])
                }
                path.noise = noise
            }
            for (k, f) in chosen.enumerated() { history[f].append(r.losses[k]) }
            stepsDone += 1
            if let observer {
                let preview = settings.previewInterval > 0 && stepsDone % settings.previewInterval == 0 ? r.image.slice(0..<chosen.count) : nil
                let losses = Array(r.losses.prefix(chosen.count))
                let progress = InversionProgress(
                    frames: chosen.map { indices[$0] }, step: s + 1, steps: steps, losses: losses, preview: preview,
                    curve: indices[0]...indices[n - 1], curveLoss: losses.reduce(0, +) / Float(max(1, losses.count)))
                if !observer(progress) { throw InversionCancelled() }
            }
        }
    }

    /// Every frame's loss on the path (and the images), without gradients.
    func frameLosses(_ path: ScenePolyline) -> (losses: [Float], images: [Tensor]) {
        var losses: [Float] = []
        var images: [Tensor] = []
        let b = step.batch
        let n = path.frameCount
        var i = 0
        while i < n {
            let chunk = Array(i..<min(i + b, n))
            let latents = Tensor.concatenate(chunk.map { path.latent(atFrame: Float($0)).reshaped([1, rows, wDim]) }).padded(toRows: b)
            let target = Tensor.concatenate(chunk.map { targets.slice($0..<($0 + 1)) }).padded(toRows: b)
            let r = step.run(ws: LatentSpace.broadcast(latents, numWs: numWs), noise: path.noise, targets: target, wantGradients: false)
            losses += r.losses.prefix(chunk.count)
            images.append(r.image.slice(0..<chunk.count))
            i += b
        }
        return (losses, images)
    }

    /// Each frame's loss after `steps` Adam steps with its own latent, free of the path (from its
    /// place on it; the scene's noise maps held): what the path could reach there with more freedom.
    func freeLosses(_ path: ScenePolyline, steps: Int) throws -> [Float] {
        let b = step.batch
        let n = path.frameCount
        var result = [Float](repeating: 0, count: n)
        var i = 0
        while i < n {
            let chunk = Array(i..<min(i + b, n))
            var latents = Tensor.concatenate(chunk.map { path.latent(atFrame: Float($0)).reshaped([1, rows, wDim]) }).padded(toRows: b)
            let target = Tensor.concatenate(chunk.map { targets.slice($0..<($0 + 1)) }).padded(toRows: b)
            var adam = Adam(count: latents.count)
            var best = [Float](repeating: .infinity, count: chunk.count)
            for s in 0...steps {
                let r = step.run(ws: LatentSpace.broadcast(latents, numWs: numWs), noise: path.noise, targets: target, wantGradients: s < steps)
                for k in chunk.indices { best[k] = min(best[k], r.losses[k]) }
                if s == steps { break }
                adam.step(&latents, gradient: LatentSpace.reduce(r.gradWs, rows: rows), lr: Self.probeLearningRate)
            }
            for (k, f) in chunk.enumerated() { result[f] = best[k] }
            i += b
        }
        return result
    }

    /// The free probe's learning rate, constant over its few steps (at 0.05 the probe's first
    /// steps overshot: no frame gained, so no knot was ever placed).
    static let probeLearningRate: Float = 0.01
}
