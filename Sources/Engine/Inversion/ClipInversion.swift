import Foundation

/// Inverts a clip's frames with one method at a given budget (generator forward+backward
/// evaluations per frame, averaged over the clip), respecting scene boundaries.
public struct ClipInversion: Sendable {
    public var method: InversionMethod
    public var budget: Int
    public var settings: InversionSettings

    public init(method: InversionMethod, budget: Int, settings: InversionSettings) {
        self.method = method
        self.budget = budget
        self.settings = settings
    }

    public struct Result: Sendable {
        public var frames: [FrameInversion]
        /// Scene projector segments per scene (empty for per-frame methods).
        public var segments: [[SceneProjector.Segment]]
        public var notes: [String]
        public var seconds: Double
        public var evaluations: Int
    }

    /// targets [F, C, R, R] for clip frames `first ..< first + F` (`first` only labels progress);
    /// `scenes` covers the targets, numbered from 0 like them.
    public func run(
        generator: Generator, statistics: WStatistics, loss: any ImageLoss, targets: Tensor, first: Int = 0,
        scenes: SceneList, observer: InversionObserver? = nil
    ) throws -> Result {
        let start = Date()
        let count = targets.shape[0]
        let indices = Array(first..<(first + count))
        let local = scenes.scenes.map { (frames: $0.frames, clean: $0.clean) }
        var notes: [String] = []
        var segments: [[SceneProjector.Segment]] = []
        var frames: [FrameInversion]
        switch method {
        case .naive, .smooth:
            frames = try NaiveProjector(settings: settings, steps: budget).run(
                generator: generator, statistics: statistics, loss: loss, targets: targets, frameIndices: indices, observer: observer)
            if method == .smooth {
                let smoothed = LatentSmoothing.smooth(frames.map(\.ws), scenes: local.map(\.clean))
                // Re-render to report the smoothed latents' own losses.
                let step = ReconstructionStep(generator: generator, loss: loss, batch: 1)
                for i in frames.indices {
                    frames[i].ws = smoothed[i]
                    let r = step.run(
                        ws: smoothed[i].reshaped([1] + smoothed[i].shape), noise: frames[i].noise?.map { $0.reshaped([1] + $0.shape) },
                        targets: targets.slice(i..<(i + 1)), wantGradients: false)
                    frames[i].finalLoss = r.losses[0]
                }
            }
        case .sequential:
            let starts = Set(local.map { $0.clean.isEmpty ? $0.frames.lowerBound : $0.clean.lowerBound })
            var seq = SequentialProjector(settings: settings, steps: 1)
            seq.steps = SequentialProjector.steps(forBudget: budget, frames: count, sceneStarts: starts.count, firstStepFactor: seq.firstStepFactor)
            notes.append("sequential: \(seq.steps) steps per frame, \(seq.steps * seq.firstStepFactor) at each of \(starts.count) scene starts")
            frames = try seq.run(
                generator: generator, statistics: statistics, loss: loss, targets: targets, sceneStarts: starts,
                frameIndices: indices, observer: observer)
        case .scene:
            var byFrame = [FrameInversion?](repeating: nil, count: count)
            for scene in local where !scene.clean.isEmpty {
                let r = try SceneProjector(settings: settings, budget: budget).run(
                    generator: generator, statistics: statistics, loss: loss, targets: targets.slice(scene.clean),
                    frameIndices: Array(scene.clean).map { $0 + first }, observer: observer)
                for (k, f) in r.frames.enumerated() { byFrame[scene.clean.lowerBound + k] = f }
                segments.append(r.segments.map { seg in
                    var s = seg
                    s.range = (seg.range.lowerBound + scene.clean.lowerBound + first)..<(seg.range.upperBound + scene.clean.lowerBound + first)
                    return s
                })
                notes += r.splits.map { "scene \(scene.frames.lowerBound + first)-\(scene.frames.upperBound - 1 + first): \($0)" }
            }
            // Transition frames belong to no line: frame by frame, warm-started from the neighbour before.
            let loose = (0..<count).filter { byFrame[$0] == nil }
            if !loose.isEmpty {
                notes.append("\(loose.count) transition frame(s) inverted frame by frame")
                let optimizer = try LatentOptimizer(
                    step: ReconstructionStep(generator: generator, loss: loss, batch: 1), settings: { var s = settings; s.batch = 1; return s }(),
                    statistics: statistics)
                let schedule = ProjectorSchedule(steps: budget)
                for f in loose {
                    var state = optimizer.freshState()
                    if f > 0, let previous = byFrame[f - 1] {
                        let rows = settings.space.rows(numWs: generator.config.numWs)
                        let latents = previous.ws.slice(0..<rows).reshaped([1, rows, generator.config.wDim])
                        state = optimizer.makeState(latents: latents, noise: previous.noise.map { $0.map { $0.reshaped([1] + $0.shape) } } ?? state.noise)
                    }
                    let target = targets.slice(f..<(f + 1))
                    var history: [Float] = []
                    for s in 0..<budget {
                        let (lr, wNoise) = schedule.at(s, wStd: statistics.wStd)
                        let (losses, image) = optimizer.iterate(&state, targets: target, lr: lr, wNoiseScale: wNoise)
                        history.append(losses[0])
                        if let observer, !observer(InversionProgress(frames: [f + first], step: s + 1, steps: budget, losses: losses, preview: settings.previewInterval > 0 && (s + 1) % settings.previewInterval == 0 ? image : nil)) {
                            throw InversionCancelled()
                        }
                    }
                    let final = optimizer.evaluate(state, targets: target).losses[0]
                    byFrame[f] = optimizer.frameResult(state, index: 0, history: history, finalLoss: final, evaluations: budget)
                }
            }
            frames = byFrame.map { $0! }
        }
        let evaluations = frames.reduce(0) { $0 + $1.evaluations }
        return Result(frames: frames, segments: segments, notes: notes, seconds: Date().timeIntervalSince(start), evaluations: evaluations)
    }
}
