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
        frameIndices: [Int]? = nil, observer: InversionObserver? = nil
    ) throws -> [FrameInversion] {
        let frames = targets.shape[0]
        let indices = frameIndices ?? Array(0..<frames)
        let batch = min(settings.batch, frames)
        let optimizer = try LatentOptimizer(
            step: ReconstructionStep(generator: generator, loss: loss, batch: batch), settings: settings, statistics: statistics)
        let schedule = ProjectorSchedule(steps: steps)
        var results: [FrameInversion] = []
        var start = 0
        while start < frames {
            let count = min(batch, frames - start)
            let target = targets.slice(start..<(start + count)).padded(toRows: batch)
            var state = optimizer.freshState()
            var history = Array(repeating: [Float](), count: count)
            for s in 0..<steps {
                let (lr, wNoise) = schedule.at(s, wStd: statistics.wStd)
                let (losses, image) = optimizer.iterate(&state, targets: target, lr: lr, wNoiseScale: wNoise)
                for i in 0..<count { history[i].append(losses[i]) }
                if let observer {
                    let preview = settings.previewInterval > 0 && (s + 1) % settings.previewInterval == 0 ? image.slice(0..<count) : nil
                    let progress = InversionProgress(
                        frames: Array(indices[start..<(start + count)]), step: s + 1, steps: steps,
                        losses: Array(losses.prefix(count)), preview: preview)
                    if !observer(progress) { throw InversionCancelled() }
                }
            }
            let final = optimizer.evaluate(state, targets: target).losses
            for i in 0..<count {
                results.append(optimizer.frameResult(state, index: i, history: history[i], finalLoss: final[i], evaluations: steps))
            }
            start += count
        }
        return results
    }
}
