/// `naive`: every frame on its own, from w_avg, with NVIDIA's projector schedule (the official
/// algorithm, batched: frames share GEMMs but nothing else).
public struct NaiveProjector: Sendable {
    public var settings: InversionSettings
    public var steps: Int

    public init(settings: InversionSettings, steps: Int) {
        self.settings = settings
        self.steps = steps
    }

    /// Inverts targets [F, C, R, R] (frame indices `frameIndices` for progress reports).
    public func run(
        generator: Generator, statistics: WStatistics, loss: any ImageLoss, targets: Tensor,
        frameIndices: [Int]? = nil, observer: InversionObserver? = nil, sink: FinishedFrames? = nil
    ) throws -> [FrameInversion] {
        var results: [FrameInversion] = []
        try run(
            generator: generator, statistics: statistics, loss: loss, frames: targets.shape[0], targets: { targets.slice($0) },
            frameIndices: frameIndices, observer: observer,
            sink: { k, done in
                try sink?(k, done)
                results += done
            })
        return results
    }

    /// The same over `frames` targets fetched a batch at a time (`targets(range)` gives [n, C, R, R]),
    /// each batch's results handed to `sink` and not kept: only the batch in flight is held, however
    /// many frames there are.
    public func run(
        generator: Generator, statistics: WStatistics, loss: any ImageLoss, frames: Int, targets: (Range<Int>) throws -> Tensor,
        frameIndices: [Int]? = nil, observer: InversionObserver? = nil, sink: FinishedFrames
    ) throws {
        let indices = frameIndices ?? Array(0..<frames)
        let batch = min(settings.batch, frames)
        let optimizer = try LatentOptimizer(
            step: ReconstructionStep(generator: generator, loss: loss, batch: batch), settings: settings, statistics: statistics)
        let schedule = ProjectorSchedule(steps: steps)
        var start = 0
        while start < frames {
            let count = min(batch, frames - start)
            let target = try targets(start..<(start + count)).padded(toRows: batch)
            var state = optimizer.freshState()
            let histories = try optimizer.optimize(
                &state, targets: target, steps: steps, frames: Array(indices[start..<(start + count)]),
                schedule: { schedule.at($0, wStd: statistics.wStd) }, observer: observer)
            let done = optimizer.finish(state, targets: target, histories: histories, evaluations: steps)
            try sink(Array(start..<(start + count)), done)
            start += count
        }
    }
}
