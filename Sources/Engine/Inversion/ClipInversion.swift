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
    /// `sequential`'s steps given outright (real time); wins over `sequentialSteps`.
    public var sequentialSchedule: SequentialProjector.Schedule?

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

    /// targets [F, C, R, R] for clip frames `first ..< first + F` (`first` labels progress and names
    /// each piece of work's random stream); `scenes` covers the targets, numbered from 0 like them.
    /// `sink` hears of every frame as it finishes (indices into the targets).
    ///
    /// Every scene is inverted on its own: nothing carries from one scene to the next, and a frame's
    /// random draws come from its scene's (or batch's) stream. So a scene's frames get the same bits
    /// whether the clip is run whole, scene by scene, resumed, or split among workers.
    public func run(
        generator: Generator, statistics: WStatistics, loss: any ImageLoss, targets: Tensor, first: Int = 0,
        scenes: SceneList, observer: InversionObserver? = nil, sink: FinishedFrames? = nil
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
                generator: generator, statistics: statistics, loss: loss, targets: targets, frameIndices: indices,
                batches: NaiveProjector.batches(scenes: local.map(\.frames), batch: settings.batch), observer: observer, sink: sink)
            if method == .smooth {
                frames = LatentSmoothing.smooth(frames, scenes: local.map(\.clean))
                // Report the smoothed latents' own losses.
                let step = ReconstructionStep(generator: generator, loss: loss, batch: 1)
                for i in frames.indices { frames[i].finalLoss = step.loss(of: frames[i], target: targets.slice(i..<(i + 1))) }
            }
        case .sequential:
            let starts = Self.sequentialStarts(local.map(\.frames), clean: local.map(\.clean))
            var seq = SequentialProjector(settings: settings, steps: 1)
            if let schedule = sequentialSchedule {
                seq.schedule = schedule
                notes.append("sequential: \(schedule.warm) steps per frame on average, \(schedule.first) at each of \(starts.count) scene starts")
            } else {
                seq.steps = sequentialSteps
                    ?? SequentialProjector.steps(forBudget: budget, frames: count, sceneStarts: starts.count, firstStepFactor: seq.firstStepFactor)
                notes.append("sequential: \(seq.steps) steps per frame, \(seq.steps * seq.firstStepFactor) at each of \(starts.count) scene starts")
            }
            var byFrame = [FrameInversion?](repeating: nil, count: count)
            for (scene, start) in zip(local, starts) {
                // From the scene's start (its first clean frame) to its end, then the transition frames
                // before the start backwards, each warm from the frame after it.
                let forward = Array(start..<scene.frames.upperBound)
                let backward = Array((scene.frames.lowerBound..<start).reversed())
                var startFrame: FrameInversion?
                for (order, isForward) in [(forward, true), (backward, false)] where !order.isEmpty {
                    let orderedTargets = isForward
                        ? targets.slice(start..<scene.frames.upperBound) : Tensor.concatenate(order.map { targets.slice($0..<($0 + 1)) })
                    _ = try seq.run(
                        generator: generator, statistics: statistics, loss: loss, targets: orderedTargets,
                        sceneStarts: isForward ? [0] : [], warmStart: isForward ? nil : startFrame,
                        frameIndices: order.map { $0 + first }, observer: observer,
                        sink: { k, finished in
                            for (j, f) in zip(k, finished) {
                                byFrame[order[j]] = f
                                if isForward && j == 0 { startFrame = f }
                            }
                            try sink?(k.map { order[$0] }, finished)
                        })
                }
            }
            frames = byFrame.map { $0! }
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
            // Transition frames belong to no line: frame by frame, warm-started from their neighbour in
            // the scene: those after the line from the frame before, those before it (a dissolve's
            // second half) backwards from the frame after. A scene of transition frames only starts
            // afresh at its first frame.
            let loose = (0..<count).filter { byFrame[$0] == nil }
            if !loose.isEmpty {
                notes.append("\(loose.count) transition frame(s) inverted frame by frame")
                let optimizer = try LatentOptimizer(
                    step: ReconstructionStep(generator: generator, loss: loss, batch: 1), settings: { var s = settings; s.batch = 1; return s }(),
                    statistics: statistics)
                let schedule = ProjectorSchedule(steps: budget)
                for scene in local {
                    let leading = scene.clean.isEmpty ? [] : Array((scene.frames.lowerBound..<scene.clean.lowerBound).reversed())
                    let trailing = scene.clean.isEmpty ? Array(scene.frames) : Array(scene.clean.upperBound..<scene.frames.upperBound)
                    for f in leading + trailing {
                        let neighbour = leading.contains(f) ? f + 1 : f - 1
                        let before = scene.frames.contains(neighbour) ? byFrame[neighbour] : nil
                        optimizer.reseed(stream: f + first)
                        var state = before.map { optimizer.makeState(frame: $0, space: settings.space) } ?? optimizer.freshState(frames: [f + first])
                        let target = targets.slice(f..<(f + 1))
                        let histories = try optimizer.optimize(
                            &state, targets: target, steps: budget, frames: [f + first], schedule: { schedule.at($0, wStd: statistics.wStd) },
                            observer: observer)
                        byFrame[f] = optimizer.finish(state, targets: target, histories: histories, evaluations: budget)[0]
                        try sink?([f], [byFrame[f]!])
                    }
                }
            }
            frames = byFrame.map { $0! }
        }
        let evaluations = frames.reduce(0) { $0 + $1.evaluations }
        return Result(frames: frames, segments: segments, notes: notes, seconds: Date().timeIntervalSince(start), evaluations: evaluations)
    }

    /// sequential's fresh start in each scene: its first clean frame, or its first frame when it has
    /// only transition frames. The frames after a start go on warm from it; those before it, warm
    /// backwards. One start a scene, so the budget's split between start and warm frames is known
    /// from the scene list alone.
    public static func sequentialStarts(_ frames: [Range<Int>], clean: [Range<Int>]) -> [Int] {
        zip(frames, clean).map { $1.isEmpty ? $0.lowerBound : $1.lowerBound }
    }
}
