import Foundation

// Pivotal tuning (PTI, Roich et al. 2022) for a scene: with the scene's latents frozen as pivots,
// Adam tunes the synthesis network's weights (through `TunedScene`'s deltas: low-rank factors for
// the large weights, whole deltas for the small tensors) so that the pivots render the scene's
// frames, while PTI's locality regulariser keeps images away from the pivots as they were.
//
// Dimension letters: B frames a step, K regulariser latents a step, F pivots, L = num_ws, D = w_dim,
// C x R x R an image.

/// Tunes one scene's generator around its pivots.
public struct SceneTuner: Sendable {
    public var settings: SceneTuningSettings

    public init(settings: SceneTuningSettings = SceneTuningSettings()) {
        self.settings = settings
    }

    public struct Result: Sendable {
        /// The deltas: `scene.apply(to: generator)` is the tuned generator.
        public var scene: TunedScene
        /// The mean image loss of each step's frames, before its update.
        public var lossHistory: [Float]
        /// The regulariser's mean squared difference, at each step it ran.
        public var localityHistory: [Float]
        public var seconds: Double
        /// Times the tuning diverged and went back to its best pass at half the learning rate.
        public var backtracks: Int
    }

    /// Tunes `generator` so that `pivots` (the scene's inverted frames: ws [L, D], noise maps per layer
    /// [R, R] or nil for the model's const noise) render `targets` [F, C, R, R] in [-1, 1] under `loss`.
    /// `statistics` gives w_std, the unit of the regulariser's radius. Deterministic for a seed, and
    /// the same bits with any worker count.
    public func run(
        generator: Generator, statistics: WStatistics, pivots: [FrameInversion], targets: Tensor,
        loss: any ImageLoss, observer: SceneTuningObserver? = nil
    ) throws -> Result {
        let start = Date()
        let c = generator.config
        let f = pivots.count
        precondition(f > 0 && targets.shape == [f, c.imgChannels, c.imgResolution, c.imgResolution], "targets must be [\(f), \(c.imgChannels), \(c.imgResolution), \(c.imgResolution)], got \(targets.shape)")
        precondition(pivots.allSatisfy { $0.ws.shape == [c.numWs, c.wDim] }, "pivots' ws must be [\(c.numWs), \(c.wDim)]")
        precondition(settings.batch >= 1 && settings.localityInterval >= 1 && settings.localityBatch >= 1)
        let b = min(settings.batch, f)
        let base = generator.synthesis
        var tuned = generator.synthesis
        var scene = TunedScene.initial(for: base, settings: settings)
        scene.notes = notes(frames: f)
        var adams = Dictionary(uniqueKeysWithValues: scene.fileTensors.map { ($0.0, Adam(count: $0.1.count)) })

        let pivotWs = Tensor.concatenate(pivots.map { $0.ws.reshaped([1] + $0.ws.shape) })  // [F, L, D]
        let pivotNoise = Self.noiseMaps(pivots, synthesis: base)  // per layer [F, R, R]
        let workspace = SynthesisWorkspace(network: base, batch: b)
        var lossGradient: Tensor? = Tensor(zeros: [b, c.imgChannels, c.imgResolution, c.imgResolution])  // [B, C, R, R]
        let regularizer = settings.localityWeight > 0
            ? LocalityRegularizer(base: generator, pivots: pivotWs, wStd: statistics.wStd, settings: settings) : nil
        var order = FrameOrder(frames: f, seed: settings.seed)
        let noiseNames = base.noiseLayerNames

        var lossHistory: [Float] = []
        var localityHistory: [Float] = []
        // Passes over the scene (every frame once): a pass whose mean loss is `divergence` times the
        // best pass's means the tuning diverged (low-rank factors at a high rate can: on the clip's
        // scene 100-125, one frame a step, the loss went 0.02 -> 0.75 in 200 steps and had not come
        // back to 0.08 at the end). Then the best pass's state comes back at half the learning rate.
        // The result is the best pass's state, or the untuned generator when no pass beat it (its
        // loss on every frame, measured first, is where the comparison starts).
        let passSteps = (f + b - 1) / b
        var pass: (sum: Double, steps: Int) = (0, 0)
        var untunedSum: Double = 0
        for first in stride(from: 0, to: f, by: b) {
            // A whole batch (the workspace's), wrapping round; each frame counted once.
            let frames = (first..<(first + b)).map { $0 % f }
            let image = base.forward(
                Self.rows(frames, of: pivotWs), noise: .explicit(pivotNoise.map { Self.rows(frames, of: $0) }), workspace: workspace)
            untunedSum += loss.evaluate(image, Self.rows(frames, of: targets)).prefix(f - first).reduce(0) { $0 + Double($1) }
        }
        var best: (loss: Double, scene: TunedScene, adams: [String: Adam])? = (untunedSum / Double(f), scene, adams)
        // The last pass's mean loss (the untuned one before the first pass ends), for `logLoss`.
        var reference = Float(untunedSum / Double(f))
        var rate: Float = 1
        var backtracks = 0
        for step in 0..<settings.steps {
            // Each tuned tensor is set once a step, before both forwards: a conv layer's new weight
            // drops its prepared transforms (demodulation sums, flipped weight, Winograd transforms,
            // ~5% of a step on the bundled model), which the step's first forward makes again and
            // the regulariser's forward and both backwards reuse.
            scene.write(over: base, into: &tuned)
            let frames = order.next(b)
            let ws = Self.rows(frames, of: pivotWs)
            let image = tuned.forward(ws, noise: .explicit(pivotNoise.map { Self.rows(frames, of: $0) }), workspace: workspace)
            lossGradient!.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            // The mean over the batch: the learning rate means the same at any batch size.
            let losses = loss.evaluate(image, Self.rows(frames, of: targets), accumulatingGradient: &lossGradient, scale: 1 / Float(b))
            if settings.logLoss {
                Self.scaleRows(&lossGradient!, by: losses.map { min(reference / max($0, 1e-12), settings.logLossMaxWeight) })
            }
            let backward = tuned.backward(lossGradient!, workspace: workspace, ws: ws, parameterGradients: true)
            var gradients = backward.parameters
            // A noise offset's gradient is its layer's noise maps' summed over the frames.
            let noiseGradients = scene.noiseOffsets.isEmpty ? [:] : Dictionary(uniqueKeysWithValues: zip(noiseNames, backward.noise.map(Self.sumRows)))

            var locality: Float?
            if let regularizer, step % settings.localityInterval == 0 {
                // PTI renders the regulariser's latents without noise (noise_mode='none').
                let (latents, untuned) = regularizer.next(step / settings.localityInterval)  // [K, L, D], [K, C, R, R]
                let images = tuned.forward(latents, noise: .none, workspace: regularizer.workspace)
                var g = Tensor(zeros: images.shape)
                let scale = settings.localityWeight * Float(settings.localityInterval)
                locality = LocalityRegularizer.meanSquaredDifference(images, untuned, scale: scale, gradient: &g)
                let more = tuned.backward(g, workspace: regularizer.workspace, ws: latents, parameterGradients: true).parameters
                for name in scene.parameterNames { gradients[name] = Self.sum(gradients[name]!, more[name]!) }
                localityHistory.append(locality!)
            }

            let ramp = Self.rampFactor(step: step, steps: settings.steps, rampDown: settings.rampDown)
            update(
                &scene, gradients: gradients, noiseGradients: noiseGradients, adams: &adams, lr: settings.learningRate * ramp * rate,
                smallLR: settings.smallTensorLearningRate * ramp * rate, noiseLR: settings.noiseLearningRate * ramp * rate)
            let mean = losses.reduce(0, +) / Float(b)
            lossHistory.append(mean)
            pass = (pass.sum + Double(mean), pass.steps + 1)
            if pass.steps == passSteps {
                let passLoss = pass.sum / Double(pass.steps)
                reference = Float(passLoss)
                pass = (0, 0)
                if best == nil || passLoss < best!.loss {
                    // Copy-on-write: the snapshot costs one copy of what the next step changes.
                    best = (passLoss, scene, adams)
                } else if passLoss > Double(settings.divergence) * best!.loss {
                    (scene, adams) = (best!.scene, best!.adams)
                    rate /= 2
                    backtracks += 1
                }
            }
            if let observer,
               !observer(SceneTuningProgress(step: step + 1, steps: settings.steps, frames: frames, loss: mean, locality: locality)) {
                throw InversionCancelled()
            }
        }
        var result = best?.scene ?? scene
        result.notes["backtracks"] = "\(backtracks)"
        return Result(scene: result, lossHistory: lossHistory, localityHistory: localityHistory, seconds: Date().timeIntervalSince(start), backtracks: backtracks)
    }


    /// One Adam step on every factor and delta, from the dense parameter gradients.
    private func update(
        _ scene: inout TunedScene, gradients: [String: Tensor], noiseGradients: [String: Tensor], adams: inout [String: Adam], lr: Float, smallLR: Float,
        noiseLR: Float
    ) {
        let g = scene.gradients(gradients, noiseGradients: noiseGradients)
        for name in scene.lowRank.keys.sorted() {
            adams[name + TunedScene.upSuffix]!.step(&scene.lowRank[name]!.up, gradient: g.lowRank[name]!.up, lr: lr)
            adams[name + TunedScene.downSuffix]!.step(&scene.lowRank[name]!.down, gradient: g.lowRank[name]!.down, lr: lr)
        }
        for name in scene.dense.keys.sorted() {
            adams[name + TunedScene.deltaSuffix]!.step(&scene.dense[name]!, gradient: g.dense[name]!, lr: smallLR)
        }
        for name in scene.noiseOffsets.keys.sorted() {
            adams[name + TunedScene.offsetSuffix]!.step(&scene.noiseOffsets[name]!, gradient: g.noiseOffsets[name]!, lr: noiseLR)
        }
    }

    /// What the file records of the run.
    private func notes(frames: Int) -> [String: String] {
        let s = settings
        return [
            "frames": "\(frames)", "steps": "\(s.steps)", "batch": "\(s.batch)", "rank": "\(s.rank)", "affine_rank": "\(s.affineRank)",
            "learning_rate": "\(s.learningRate)", "noise_learning_rate": "\(s.noiseLearningRate)", "log_loss": "\(s.logLoss)", "locality_weight": "\(s.localityWeight)", "locality_radius": "\(s.localityRadius)",
            "seed": "\(s.seed)",
        ]
    }

    /// 1, then falling linearly to 0 over the last `rampDown` of the steps.
    static func rampFactor(step: Int, steps: Int, rampDown: Float) -> Float {
        guard rampDown > 0 else { return 1 }
        let t = Float(step) / Float(max(1, steps))
        return min(1, (1 - t) / rampDown)
    }

    /// Per noise layer, every pivot's map [F, R, R]: its own, or the layer's noise_const when it has none.
    static func noiseMaps(_ pivots: [FrameInversion], synthesis: SynthesisNetwork) -> [Tensor] {
        synthesis.convLayers.enumerated().map { index, layer in
            Tensor.concatenate(pivots.map { p in
                let map = p.noise?[index] ?? layer.noiseConst
                return map.reshaped([1, layer.resolution, layer.resolution])
            })
        }
    }

    /// Rows `rows` of `t` [F, ...], stacked.
    static func rows(_ rows: [Int], of t: Tensor) -> Tensor {
        Tensor.concatenate(rows.map { t.slice($0..<($0 + 1)) })
    }

    /// Row k of t [B, ...] times factors[k].
    static func scaleRows(_ t: inout Tensor, by factors: [Float]) {
        let row = t.count / t.shape[0]
        t.withUnsafeMutableBufferPointer { p in
            for (k, f) in factors.enumerated() { for i in (k * row)..<((k + 1) * row) { p[i] *= f } }
        }
    }

    /// t [B, ...] summed over its rows: [...].
    static func sumRows(_ t: Tensor) -> Tensor {
        let row = t.count / t.shape[0]
        return Tensor(shape: Array(t.shape.dropFirst())) { out in
            t.withUnsafeBufferPointer { p in for k in 0..<t.shape[0] { for i in 0..<row { out[i] += p[k * row + i] } } }
        }
    }

    static func sum(_ a: Tensor, _ b: Tensor) -> Tensor {
        var out = a
        b.withUnsafeBufferPointer { y in out.withUnsafeMutableBufferPointer { x in for i in 0..<x.count { x[i] += y[i] } } }
        return out
    }
}

/// The frames of each step: a pass over the scene in a fresh order from the seed, cut into batches;
/// a pass's last frames that do not fill a batch wait for the next pass (so a batch never holds a
/// frame twice; the order is random, so no frame is left out more often than another).
struct FrameOrder {
    let frames: Int
    private var rng: GaussianNoise
    private var pass: ArraySlice<Int> = []

    init(frames: Int, seed: UInt64) {
        self.frames = frames
        rng = GaussianNoise(seed: seed, stream: Int.max)
    }

    /// The next `count` (at most `frames`) distinct frames.
    mutating func next(_ count: Int) -> [Int] {
        precondition(count <= frames)
        if pass.count < count {
            var order = Array(0..<frames)
            for i in stride(from: frames - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.nextUInt64() % UInt64(i + 1))) }
            pass = order[...]
        }
        defer { pass = pass.dropFirst(count) }
        return Array(pass.prefix(count))
    }
}
