/// Optimises one latent per frame (and, optionally, one set of noise maps per frame) for a batch of
/// frames with Adam: the machinery of NVIDIA's projector, shared by `naive` and `sequential`.
///
/// Each step: ws = broadcast(latents + w noise), render with the frames' noise maps, image loss plus
/// the noise regulariser (and any extra latent terms the method adds), backward, Adam, re-normalise
/// the noise maps.
public final class LatentOptimizer: @unchecked Sendable {
    public let step: ReconstructionStep
    public let settings: InversionSettings
    public let statistics: WStatistics
    let prior: GaussianizedWPrior?
    let regularizer = NoiseRegularizer()
    var rng: GaussianNoise

    public init(step: ReconstructionStep, settings: InversionSettings, statistics: WStatistics) throws {
        self.step = step
        self.settings = settings
        self.statistics = statistics
        prior = settings.priorWeight > 0 ? try GaussianizedWPrior(statistics: statistics) : nil
        rng = GaussianNoise(seed: settings.seed)
    }

    /// Starts the random draws of one piece of work (a frame, or a batch named by its first frame's
    /// clip index) afresh, so its result does not depend on what this optimiser did before: a frame
    /// gets the same bits in a one-process run, a resumed one, or any shard of a split run.
    public func reseed(stream: Int) {
        rng = GaussianNoise(seed: settings.seed, stream: stream)
    }

    var generator: Generator { step.generator }
    var numWs: Int { generator.config.numWs }
    var wDim: Int { generator.config.wDim }

    /// The state being optimised for up to `step.batch` frames.
    public struct State: Sendable {
        public var latents: Tensor  // [B, rows, w_dim]
        public var noise: [Tensor]?  // per layer [B, R, R]
        var adamLatents: Adam
        var adamNoise: [Adam]
    }

    /// Latents at w_avg and fresh unit-Gaussian noise maps, as the projector starts; with
    /// `settings.initial`, the latents of clip frames `frames` instead (a shorter list is padded by
    /// its last frame, as a short batch is).
    public func freshState(frames: [Int] = []) -> State {
        let b = step.batch
        let rows = settings.space.rows(numWs: numWs)
        let latents: Tensor
        if let initial = settings.initial, let last = frames.last {
            let given = (0..<b).map { i in initial.latents(clipFrame: i < frames.count ? frames[i] : last, space: settings.space) }
            latents = Tensor.concatenate(given.map { $0.reshaped([1, rows, wDim]) })
        } else {
            latents = Tensor(shape: [b, rows, wDim]) { p in
                statistics.wAvg.withUnsafeBufferPointer { avg in
                    for r in 0..<(b * rows) { for j in 0..<wDim { p[r * wDim + j] = avg[j] } }
                }
            }
        }
        var noise: [Tensor]?
        if settings.optimizeNoise {
            noise = generator.synthesis.noiseResolutions.map { res in
                Tensor(shape: [b, res, res]) { p in rng.fill(p.baseAddress!, count: p.count) }
            }
        }
        return makeState(latents: latents, noise: noise)
    }

    public func makeState(latents: Tensor, noise: [Tensor]?) -> State {
        State(
            latents: latents, noise: noise, adamLatents: Adam(count: latents.count),
            adamNoise: noise?.map { Adam(count: $0.count) } ?? [])
    }

    /// A state continuing from a finished frame (batch 1): its latents (the space's rows), its
    /// noise maps (fresh ones when it has none but noise is optimised), new Adam moments.
    public func makeState(frame: FrameInversion, space: LatentSpace) -> State {
        let rows = space.rows(numWs: numWs)
        let latents = frame.ws.slice(0..<rows).reshaped([1, rows, wDim])
        let noise = settings.optimizeNoise ? (frame.noise?.map { $0.reshaped([1] + $0.shape) } ?? freshState().noise) : nil
        return makeState(latents: latents, noise: noise)
    }

    /// `steps` optimisation steps on `state`, with the learning rate and w-noise scale of each step
    /// from `schedule`, `frozenRows` of the latents held at `values` [1 or B, rows, w_dim]; reports progress for `frames` (the first `frames.count` rows of the batch)
    /// and returns their loss histories. Throws `InversionCancelled` when the observer says stop.
    /// `firstImage` receives the image the first step rendered (before its update): without w noise,
    /// the image of the state as it was given.
    public func optimize(
        _ state: inout State, targets: Tensor, steps: Int, frames: [Int], schedule: (Int) -> (lr: Float, wNoiseScale: Float),
        extra: LatentTerm? = nil, frozenRows: (rows: Range<Int>, values: Tensor)? = nil, observer: InversionObserver?,
        firstImage: ((Tensor) throws -> Void)? = nil
    ) throws -> [[Float]] {
        let count = frames.count
        var history = Array(repeating: [Float](), count: count)
        for s in 0..<steps {
            let (lr, wNoise) = schedule(s)
            let (losses, image) = iterate(&state, targets: targets, lr: lr, wNoiseScale: wNoise, extra: extra)
            if s == 0 { try firstImage?(image) }
            // Rows shared with other frames stay as they were given (a projection after each step).
            if let frozenRows { LatentSpace.copyRows(frozenRows.rows, from: frozenRows.values, into: &state.latents) }
            for i in 0..<count { history[i].append(losses[i]) }
            if let observer {
                let preview = settings.previewInterval > 0 && (s + 1) % settings.previewInterval == 0 ? image.slice(0..<count) : nil
                let progress = InversionProgress(frames: frames, step: s + 1, steps: steps, losses: Array(losses.prefix(count)), preview: preview)
                if !observer(progress) { throw InversionCancelled() }
            }
        }
        return history
    }

    /// Finishes `frames.count` rows of `state`: final losses and results.
    public func finish(_ state: State, targets: Tensor, histories: [[Float]], evaluations: Int) -> [FrameInversion] {
        let final = evaluate(state, targets: targets).losses
        return histories.indices.map { frameResult(state, index: $0, history: histories[$0], finalLoss: final[$0], evaluations: evaluations) }
    }

    /// Extra per-frame terms on the latents: adds to `losses` and (scaled) to `gradient` [B, rows, w_dim].
    public typealias LatentTerm = (_ latents: Tensor, _ losses: inout [Float], _ gradient: inout Tensor) -> Void

    /// One optimisation step; returns each frame's image loss (before the update).
    @discardableResult
    public func iterate(
        _ state: inout State, targets: Tensor, lr: Float, wNoiseScale: Float, extra: LatentTerm? = nil
    ) -> (losses: [Float], image: Tensor) {
        var input = state.latents
        if wNoiseScale > 0 {
            input.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] += rng.next() * wNoiseScale } }
        }
        let ws = LatentSpace.broadcast(input, numWs: numWs)
        let r = step.run(ws: ws, noise: state.noise, targets: targets)
        var gradLatents = LatentSpace.reduce(r.gradWs, rows: state.latents.shape[1])
        var objective = r.losses
        if let prior {
            var g: Tensor? = gradLatents
            let flat = state.latents.reshaped([state.latents.count / wDim, wDim])
            g = g!.reshaped(flat.shape)
            let values = prior.evaluate(flat, accumulatingGradient: &g, scale: settings.priorWeight)
            gradLatents = g!.reshaped(state.latents.shape)
            let rows = state.latents.shape[1]
            for i in objective.indices { for k in 0..<rows { objective[i] += settings.priorWeight * values[i * rows + k] } }
        }
        extra?(state.latents, &objective, &gradLatents)
        state.adamLatents.step(&state.latents, gradient: gradLatents, lr: lr)
        if var noise = state.noise {
            var grads: [Tensor]? = r.gradNoise
            _ = regularizer.total(noise, accumulatingGradients: &grads, scale: settings.noiseRegularization)
            for i in noise.indices {
                state.adamNoise[i].step(&noise[i], gradient: grads![i], lr: lr)
                NoiseRegularizer.normalize(&noise[i])
            }
            state.noise = noise
        }
        return (r.losses, r.image)
    }

    /// The final images and losses of `state` (no w noise, no update).
    public func evaluate(_ state: State, targets: Tensor) -> (losses: [Float], image: Tensor) {
        let ws = LatentSpace.broadcast(state.latents, numWs: numWs)
        let r = step.run(ws: ws, noise: state.noise, targets: targets, wantGradients: false)
        return (r.losses, r.image)
    }

    /// Frame `i` of `state` as a result.
    func frameResult(_ state: State, index i: Int, history: [Float], finalLoss: Float, evaluations: Int) -> FrameInversion {
        let ws = LatentSpace.broadcast(state.latents.slice(i..<(i + 1)), numWs: numWs).reshaped([numWs, wDim])
        let noise = state.noise?.map { n in n.slice(i..<(i + 1)).reshaped(Array(n.shape.dropFirst())) }
        return FrameInversion(ws: ws, noise: noise, lossHistory: history, finalLoss: finalLoss, evaluations: evaluations)
    }
}

extension Tensor {
    /// `frames` padded to `batch` rows by repeating the last (a fixed-size workspace is reused).
    func padded(toRows batch: Int) -> Tensor {
        let n = shape[0]
        if n == batch { return self }
        return Tensor.concatenate([self] + Array(repeating: slice((n - 1)..<n), count: batch - n))
    }
}
