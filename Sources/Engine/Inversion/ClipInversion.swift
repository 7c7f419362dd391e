import Foundation

/// Inverts a clip's frames with one method at a given budget (generator forward+backward
/// evaluations per frame, averaged over the clip), respecting scene boundaries.
public struct ClipInversion: Sendable {
    public var method: InversionMethod
    public var budget: Int
    public var settings: InversionSettings
    /// `sequential`'s steps per warm frame; derived from the budget over these targets when nil
    /// (a caller running a clip scene by scene derives it once for the whole clip).
    public var sequentialSteps: Int?

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
    /// `scenes` covers the targets, numbered from 0 like them. `warmStart` is the frame just before
    /// the targets (sequential continues from it; a leading transition frame starts from it).
    /// `sink` hears of every frame as it finishes (indices into the targets).
    public func run(
        generator: Generator, statistics: WStatistics, loss: any ImageLoss, targets: Tensor, first: Int = 0,
        scenes: SceneList, warmStart: FrameInversion? = nil, observer: InversionObserver? = nil, sink: FinishedFrames? = nil
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
                generator: generator, statistics: statistics, loss: loss, targets: targets, frameIndices: indices, observer: observer,
                sink: sink)
            if method == .smooth {
                frames = LatentSmoothing.smooth(frames, scenes: local.map(\.clean))
                // Report the smoothed latents' own losses.
                let step = ReconstructionStep(generator: generator, loss: loss, batch: 1)
                for i in frames.indices { frames[i].finalLoss = step.loss(of: frames[i], target: targets.slice(i..<(i + 1))) }
            }
        case .sequential:
            let starts = Set(local.map { $0.clean.isEmpty ? $0.frames.lowerBound : $0.clean.lowerBound })
            var seq = SequentialProjector(settings: settings, steps: 1)
            seq.steps = sequentialSteps
                ?? SequentialProjector.steps(forBudget: budget, frames: count, sceneStarts: starts.count, firstStepFactor: seq.firstStepFactor)
            notes.append("sequential: \(seq.steps) steps per frame, \(seq.steps * seq.firstStepFactor) at each of \(starts.count) scene starts")
            frames = try seq.run(
                generator: generator, statistics: statistics, loss: loss, targets: targets, sceneStarts: starts,
                warmStart: warmStart, frameIndices: indices, observer: observer, sink: sink)
        case .scene:
            var byFrame = [FrameInversion?](repeating: nil, count: count)
            for scene in local where !scene.clean.isEmpty {
                let r = try SceneProjector(settings: settings, budget: budget).run(
                    generator: generator, statistics: statistics, loss: loss, targets: targets.slice(scene.clean),
                    frameIndices: Array(scene.clean).map { $0 + first }, observer: observer)
                for (k, f) in r.frames.enumerated() { byFrame[scene.clean.lowerBound + k] = f }
                try sink?(Array(scene.clean), r.frames)
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
                    let before = f > 0 ? byFrame[f - 1] : warmStart
                    var state = before.map { optimizer.makeState(frame: $0, space: settings.space) } ?? optimizer.freshState()
                    let target = targets.slice(f..<(f + 1))
                    let histories = try optimizer.optimize(
                        &state, targets: target, steps: budget, frames: [f + first], schedule: { schedule.at($0, wStd: statistics.wStd) },
                        observer: observer)
                    byFrame[f] = optimizer.finish(state, targets: target, histories: histories, evaluations: budget)[0]
                    try sink?([f], [byFrame[f]!])
                }
            }
            frames = byFrame.map { $0! }
        }
        let evaluations = frames.reduce(0) { $0 + $1.evaluations }
        return Result(frames: frames, segments: segments, notes: notes, seconds: Date().timeIntervalSince(start), evaluations: evaluations)
    }
}
