/// `naive`: every frame on its own, from w_avg, with NVIDIA's projector schedule (the official
/// algorithm, batched: frames share GEMMs but nothing else).
public struct NaiveProjector: Sendable {
    public var settings: InversionSettings
    public var steps: Int

    public init(settings: InversionSettings, steps: Int) {
        self.settings = settings
        self.steps = steps
    }

    /// Inverts targets [F, C, R, R] (clip frame indices `frameIndices`: progress reports and each
    /// batch's random stream), batched as `batches` says (see below).
    public func run(
        generator: Generator, statistics: WStatistics, loss: any ImageLoss, targets: Tensor,
        frameIndices: [Int]? = nil, batches: [Range<Int>]? = nil, observer: InversionObserver? = nil, sink: FinishedFrames? = nil
    ) throws -> [FrameInversion] {
        var results = [FrameInversion?](repeating: nil, count: targets.shape[0])
        try run(
            generator: generator, statistics: statistics, loss: loss, frames: targets.shape[0], targets: { targets.slice($0) },
            frameIndices: frameIndices, batches: batches, observer: observer,
            sink: { k, done in
                try sink?(k, done)
                for (i, f) in zip(k, done) { results[i] = f }
            })
        return results.compactMap { $0 }
    }

    /// The same over `frames` targets fetched a batch at a time (`targets(range)` gives [n, C, R, R]),
    /// each batch's results handed to `sink` and not kept: only the batch in flight is held, however
    /// many frames there are. `batches` (ranges of the frames, each at most `settings.batch` long)
    /// says which frames share a batch; consecutive chunks of `settings.batch` when nil.
    ///
    /// A frame's result depends only on its batch: the frames in it (they share GEMMs, whose rounding
    /// follows their shapes) and the random draws, started afresh for each batch from the clip index
    /// of its first frame. Batches made from the scene list alone (`batches(scenes:batch:)`) so give
    /// the same bits however the work is split or resumed.
    public func run(
        generator: Generator, statistics: WStatistics, loss: any ImageLoss, frames: Int, targets: (Range<Int>) throws -> Tensor,
        frameIndices: [Int]? = nil, batches: [Range<Int>]? = nil, observer: InversionObserver? = nil, sink: FinishedFrames
    ) throws {
        let indices = frameIndices ?? Array(0..<frames)
        let plan = batches ?? Self.batches(scenes: [0..<frames], batch: settings.batch)
        precondition(plan.allSatisfy { $0.count <= settings.batch && $0.lowerBound >= 0 && $0.upperBound <= frames }, "a batch larger than settings.batch")
        guard frames > 0 else { return }
        let batch = min(settings.batch, frames)
        let optimizer = try LatentOptimizer(
            step: ReconstructionStep(generator: generator, loss: loss, batch: batch), settings: settings, statistics: statistics)
        let schedule = ProjectorSchedule(steps: steps, givenStart: settings.initial != nil)
        for range in plan where !range.isEmpty {
            let target = try targets(range).padded(toRows: batch)
            optimizer.reseed(stream: indices[range.lowerBound])
            var state = optimizer.freshState(frames: Array(indices[range]))
            let histories = try optimizer.optimize(
                &state, targets: target, steps: steps, frames: Array(indices[range]),
                schedule: { schedule.at($0, wStd: statistics.wStd) }, observer: observer)
            let done = optimizer.finish(state, targets: target, histories: histories, evaluations: steps)
            try sink(Array(range), done)
        }
    }

    /// Batches that never cross a scene: each scene's frames in chunks of `batch` from its first frame
    /// (a scene's last chunk may be short; it is padded). Made from the scenes alone, so every worker
    /// and every resumed run batches a frame with the same others.
    public static func batches(scenes: [Range<Int>], batch: Int) -> [Range<Int>] {
        scenes.flatMap { scene in
            stride(from: scene.lowerBound, to: scene.upperBound, by: max(1, batch)).map { $0..<min($0 + max(1, batch), scene.upperBound) }
        }
    }
}
