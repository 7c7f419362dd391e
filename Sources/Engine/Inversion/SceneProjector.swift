/// `scene`: per scene, two endpoint latents such that frame i of n is rendered from
/// lerp(w_start, w_end, i / (n - 1)), with one set of noise maps for the whole scene, so the scene
/// can be re-rendered at any t, interpolated and slowed down. All frames of a scene are optimised
/// together (a batch of frames per step, cycling through the scene).
///
/// When one line cannot follow the scene — its worst frame's loss stays far above the scene's
/// median — the scene is split at that frame into two segments, each refitted from the line's
/// values, and the split is kept when it lowers the scene's mean loss (reported in `splits`).
public struct SceneProjector: Sendable {
    public var settings: InversionSettings
    /// Evaluations per frame for the scene (the budget).
    public var budget: Int
    /// Share of the budget kept for refitting split segments.
    public var splitReserve: Float = 0.4
    /// A segment is split when its worst frame's loss exceeds the median by this factor.
    public var splitFactor: Float = 1.5
    public var minimumSegment = 6

    public init(settings: InversionSettings, budget: Int) {
        self.settings = settings
        self.budget = budget
    }

    /// A fitted linear piece: frames `range` (indices into the scene's targets) along start -> end.
    public struct Segment: Sendable {
        public var range: Range<Int>
        public var start: Tensor  // [rows, w_dim]
        public var end: Tensor  // [rows, w_dim]
        public var noise: [Tensor]?  // per layer [1, R, R]

        /// The latent at t (0 = first frame, 1 = last; outside [0, 1] extrapolates).
        public func latent(at t: Float) -> Tensor { LatentLine(start: start, end: end).latent(at: t) }

        func t(ofFrame i: Int) -> Float { range.count > 1 ? Float(i - range.lowerBound) / Float(range.count - 1) : 0 }
    }

    public struct SceneResult: Sendable {
        public var frames: [FrameInversion]
        public var segments: [Segment]
        /// Human-readable notes on splits: where and why.
        public var splits: [String]
    }

    public func run(
        generator: Generator, statistics: WStatistics, loss: any ImageLoss, targets: Tensor,
        frameIndices: [Int]? = nil, observer: InversionObserver? = nil
    ) throws -> SceneResult {
        let n = targets.shape[0]
        let indices = frameIndices ?? Array(0..<n)
        let batch = min(settings.batch, n)
        let step = ReconstructionStep(generator: generator, loss: loss, batch: batch)
        let fitter = SegmentFitter(step: step, settings: settings, statistics: statistics, targets: targets, indices: indices, observer: observer)
        let total = budget * n
        let first = n < 2 * minimumSegment ? total : Int(Float(total) * (1 - splitReserve))
        let initial = fitter.initialSegment(0..<n)
        let segment = try fitter.fit(initial, evaluations: first)
        var (losses, _) = fitter.frameLosses(segment)
        var segments = [segment]
        var splits: [String] = []
        var spent = first
        var splitTried = false
        if total - spent > 0, n >= 2 * minimumSegment {
            let sorted = losses.sorted()
            let median = sorted[sorted.count / 2]
            // The worst frame away from the ends (a split at an end leaves a segment too short).
            let candidates = (minimumSegment..<(n - minimumSegment + 1))
            if let worst = candidates.max(by: { losses[$0] < losses[$1] }), losses[worst] > splitFactor * median {
                splitTried = true
                // A line through two shots fits both sides of the cut worst: the last frame of one
                // and the first of the next. The cut lies between the worst frame and its worse
                // neighbour, so the second segment starts at whichever of the two comes later.
                let after = worst + 1
                let split = after < n - minimumSegment + 1 && losses[after] > losses[worst - 1] ? after : worst
                let left = segment.range.lowerBound..<split
                let right = split..<segment.range.upperBound
                let mid = segment.latent(at: segment.t(ofFrame: split))
                let leftInit = Segment(range: left, start: segment.start, end: segment.latent(at: segment.t(ofFrame: split - 1)), noise: segment.noise)
                let rightInit = Segment(range: right, start: mid, end: segment.end, noise: segment.noise)
                let remaining = total - spent
                let l = try fitter.fit(leftInit, evaluations: remaining * left.count / n)
                let r = try fitter.fit(rightInit, evaluations: remaining - remaining * left.count / n)
                spent = total
                let (ll, _) = fitter.frameLosses(l)
                let (rl, _) = fitter.frameLosses(r)
                let before = losses.reduce(0, +) / Float(n)
                let afterLoss = (ll.reduce(0, +) + rl.reduce(0, +)) / Float(n)
                let worstLoss = losses[worst]
                if afterLoss < 0.9 * before {
                    segments = [l, r]
                    losses = ll + rl
                    splits.append(String(
                        format: "split at frame %d: the line's worst frame (%d) had loss %.4f against a median of %.4f; mean loss %.4f -> %.4f",
                        indices[split], indices[worst], worstLoss, median, before, afterLoss))
                } else {
                    splits.append(String(format: "tried a split at frame %d (loss %.4f vs median %.4f), kept one line: mean %.4f -> %.4f", indices[split], worstLoss, median, before, afterLoss))
                }
            }
        }
        if !splitTried, total - spent > 0 {
            // One line follows the scene: spend the reserve refining it.
            segments = [try fitter.fit(segment, evaluations: total - spent, refine: true)]
            spent = total
        }
        var frames: [FrameInversion] = []
        for seg in segments {
            let (segLosses, _) = fitter.frameLosses(seg)
            for (k, i) in seg.range.enumerated() {
                let ws = LatentSpace.broadcast(seg.latent(at: seg.t(ofFrame: i)).reshaped([1] + seg.start.shape), numWs: generator.config.numWs)
                var frame = FrameInversion(
                    ws: ws.reshaped([generator.config.numWs, generator.config.wDim]),
                    noise: seg.noise?.map { $0.reshaped(Array($0.shape.dropFirst())) },
                    lossHistory: fitter.history[i], finalLoss: segLosses[k], evaluations: spent / n)
                frame.segment = indices[seg.range.lowerBound]...indices[seg.range.upperBound - 1]
                frames.append(frame)
            }
        }
        return SceneResult(frames: frames, segments: segments, splits: splits)
    }
}

/// Fits linear segments of one scene; keeps each frame's loss history across fits.
final class SegmentFitter {
    let step: ReconstructionStep
    let settings: InversionSettings
    let statistics: WStatistics
    let targets: Tensor
    let indices: [Int]
    let observer: InversionObserver?
    var history: [[Float]]
    var rng: GaussianNoise
    let regularizer = NoiseRegularizer()

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

    func initialSegment(_ range: Range<Int>) -> SceneProjector.Segment {
        let rows = settings.space.rows(numWs: numWs)
        let avg = Tensor(shape: [rows, wDim]) { p in
            statistics.wAvg.withUnsafeBufferPointer { a in for r in 0..<rows { for j in 0..<wDim { p[r * wDim + j] = a[j] } } }
        }
        // Given latents: the line through the range's frames' own (least squares), not w_avg.
        let given = settings.initial.map { $0.line(clipFrames: range.map { indices[$0] }, space: settings.space) }
        var noise: [Tensor]?
        if settings.optimizeNoise {
            noise = step.generator.synthesis.noiseResolutions.map { res in Tensor(shape: [1, res, res]) { p in rng.fill(p.baseAddress!, count: p.count) } }
        }
        return SceneProjector.Segment(range: range, start: given?.start ?? avg, end: given?.end ?? avg, noise: noise)
    }

    /// The frames of `range` a step renders: all of them, or `batch` spread evenly with a moving offset.
    func frames(of range: Range<Int>, step s: Int) -> [Int] {
        let b = step.batch
        if range.count <= b { return Array(range) }
        return (0..<b).map { j in range.lowerBound + (j * range.count / b + s) % range.count }
    }

    /// `refine`: a continuation from a fitted segment (low learning rate, no w noise) rather than
    /// the projector's full schedule from scratch.
    func fit(_ initial: SceneProjector.Segment, evaluations: Int, refine: Bool = false) throws -> SceneProjector.Segment {
        var seg = initial
        let perStep = min(step.batch, seg.range.count)
        let steps = max(1, evaluations / perStep)
        var schedule = ProjectorSchedule(steps: steps, givenStart: settings.initial != nil)
        if refine {
            schedule.initialLearningRate = 0.02
            schedule.initialNoiseFactor = 0
            schedule.lrRampupLength = 1e-6
        }
        var adamStart = Adam(count: seg.start.count)
        var adamEnd = Adam(count: seg.end.count)
        var adamNoise = seg.noise?.map { Adam(count: $0.count) } ?? []
        let rows = seg.start.shape[0]
        for s in 0..<steps {
            let (lr, wNoise) = schedule.at(s, wStd: statistics.wStd)
            let chosen = frames(of: seg.range, step: s)
            let ts = chosen.map { seg.t(ofFrame: $0) }
            var start = seg.start
            var end = seg.end
            if wNoise > 0 {
                start.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] += rng.next() * wNoise } }
                end.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] += rng.next() * wNoise } }
            }
            // Latents [B, rows, w_dim] along the line; padding rows repeat the last frame.
            let b = step.batch
            let latents = LatentLine(start: start, end: end).latents(at: (0..<b).map { ts[min($0, ts.count - 1)] })
                .reshaped([b, rows, wDim])
            let target = Tensor.concatenate(chosen.map { targets.slice($0..<($0 + 1)) }).padded(toRows: b)
            let r = step.run(ws: LatentSpace.broadcast(latents, numWs: numWs), noise: seg.noise, targets: target)
            let g = LatentSpace.reduce(r.gradWs, rows: rows)
            var gStart = Tensor(zeros: seg.start.shape)
            var gEnd = Tensor(zeros: seg.end.shape)
            g.withUnsafeBufferPointer { gp in
                gStart.withUnsafeMutableBufferPointer { gs in
                    gEnd.withUnsafeMutableBufferPointer { ge in
                        // Only real frames count; padding rows are copies.
                        for (k, t) in ts.enumerated() {
                            for i in 0..<(rows * wDim) {
                                gs[i] += (1 - t) * gp[k * rows * wDim + i]
                                ge[i] += t * gp[k * rows * wDim + i]
                            }
                        }
                    }
                }
            }
            adamStart.step(&seg.start, gradient: gStart, lr: lr)
            adamEnd.step(&seg.end, gradient: gEnd, lr: lr)
            if let shared = settings.space.sharedRows(numWs: numWs) {
                // Shared rows are the same at both ends: project onto that after each step.
                let d = wDim
                seg.start.withUnsafeMutableBufferPointer { a in
                    seg.end.withUnsafeMutableBufferPointer { e in
                        for i in (shared.lowerBound * d)..<(shared.upperBound * d) {
                            let m = 0.5 * (a[i] + e[i])
                            a[i] = m
                            e[i] = m
                        }
                    }
                }
            }
            if var noise = seg.noise {
                // Noise gradients include padding rows; with few frames that only reweights the last one.
                var grads: [Tensor]? = r.gradNoise
                _ = regularizer.total(noise, accumulatingGradients: &grads, scale: settings.noiseRegularization)
                for i in noise.indices {
                    adamNoise[i].step(&noise[i], gradient: grads![i], lr: lr)
                    NoiseRegularizer.normalize(&noise[i])
                }
                seg.noise = noise
            }
            for (k, f) in chosen.enumerated() { history[f].append(r.losses[k]) }
            if let observer {
                let preview = settings.previewInterval > 0 && (s + 1) % settings.previewInterval == 0 ? r.image.slice(0..<chosen.count) : nil
                let losses = Array(r.losses.prefix(chosen.count))
                let progress = InversionProgress(
                    frames: chosen.map { indices[$0] }, step: s + 1, steps: steps, losses: losses, preview: preview,
                    curve: indices[seg.range.lowerBound]...indices[seg.range.upperBound - 1],
                    curveLoss: losses.reduce(0, +) / Float(max(1, losses.count)))
                if !observer(progress) { throw InversionCancelled() }
            }
        }
        return seg
    }

    /// Every frame's loss on the segment's line (and the images), without gradients.
    func frameLosses(_ seg: SceneProjector.Segment) -> ([Float], [Tensor]) {
        var losses: [Float] = []
        var images: [Tensor] = []
        let b = step.batch
        let rows = seg.start.shape[0]
        var i = seg.range.lowerBound
        while i < seg.range.upperBound {
            let chunk = Array(i..<min(i + b, seg.range.upperBound))
            let latents = Tensor.concatenate(chunk.map { seg.latent(at: seg.t(ofFrame: $0)).reshaped([1, rows, wDim]) }).padded(toRows: b)
            let target = Tensor.concatenate(chunk.map { targets.slice($0..<($0 + 1)) }).padded(toRows: b)
            let r = step.run(ws: LatentSpace.broadcast(latents, numWs: numWs), noise: seg.noise, targets: target, wantGradients: false)
            losses += r.losses.prefix(chunk.count)
            images.append(r.image.slice(0..<chunk.count))
            i += b
        }
        return (losses, images)
    }
}
