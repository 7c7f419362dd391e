import Foundation

/// `sequential`: frame t starts from frame t-1's latent and noise and adds the latent-distance loss
/// lambda * ||w_t - w_{t-1}||^2 / w_std^2 (averaged over the latent's rows), with far fewer steps
/// per frame. At a scene's first frame it starts afresh from w_avg (or the given `--init` latents) with `firstStepFactor` times the
/// steps and the projector's schedule. It never looks ahead, so it can run on a live stream.
///
/// A frame followed by a warm one gets its final loss from the next frame's first step, which renders
/// exactly its final latents and noise (warm frames add no w noise): one generator forward a frame
/// saved (three steps a frame: 24.8 frames per second on the bundled model, from 22.5).
public struct SequentialProjector: Sendable {
    public var settings: InversionSettings
    /// Steps per warm-started frame.
    public var steps: Int
    /// A scene's first frame gets this many times `steps` ...
    public var firstStepFactor = 10
    /// ... unless a schedule gives the steps outright (and then `steps` is not used).
    public var schedule: Schedule?
    public var lambda: Float = 0.01
    /// Learning rate of warm-started frames, constant over their few steps. Adam's moments carry over
    /// from frame to frame (restarting them lost 1-2 dB), so a step follows the motion so far.
    /// Measured on the bundled clip, 3 steps a frame, dB below naive: 0.1 constant 1.32, 0.07
    /// constant 1.52, 0.1 decayed by a cosine within the frame 2.17 (0.03 decayed, 2 steps: 2.93).
    public var warmLearningRate: Float = 0.1

    public init(settings: InversionSettings, steps: Int) {
        self.settings = settings
        self.steps = steps
    }

    /// Steps given outright instead of derived from a budget: `warm` per warm-started frame on
    /// average (2.75: three frames in four get 3 steps, the fourth 2), `first` at each scene's
    /// first frame. Quality follows the average (measured on the bundled clip, see the README).
    public struct Schedule: Sendable, Codable, Equatable {
        public var warm: Double
        public var first: Int

        public init(warm: Double, first: Int) {
            self.warm = warm
            self.first = first
        }

        /// Steps of clip frame `frame` when it is warm-started: the average spread evenly over the
        /// frames (a frame's count depends on its index alone, so a resumed run gives the same).
        public func warmSteps(frame: Int) -> Int {
            Int((Double(frame + 1) * warm).rounded(.down)) - Int((Double(frame) * warm).rounded(.down))
        }

        /// Generator evaluations over `frames` frames of which `sceneStarts` start afresh (about:
        /// the warm frames' share is rounded).
        public func evaluations(frames: Int, sceneStarts: Int) -> Int {
            Int((warm * Double(frames - sceneStarts)).rounded()) + first * sceneStarts
        }
    }

    /// Warm steps per frame so that the clip averages `budget` evaluations per frame.
    public static func steps(forBudget budget: Int, frames: Int, sceneStarts: Int, firstStepFactor: Int = 10) -> Int {
        max(1, budget * frames / max(1, frames + (firstStepFactor - 1) * sceneStarts))
    }

    /// Inverts targets [F, C, R, R]; `sceneStarts` are the frame indices (into targets) that start afresh.
    /// `warmStart` is the frame before targets[0] (a resumed run): frame 0 then continues from it
    /// unless it starts a scene.
    public func run(
        generator: Generator, statistics: WStatistics, loss: any ImageLoss, targets: Tensor, sceneStarts: Set<Int>,
        warmStart: FrameInversion? = nil, frameIndices: [Int]? = nil, observer: InversionObserver? = nil, sink: FinishedFrames? = nil
    ) throws -> [FrameInversion] {
        var oneFrame = settings
        oneFrame.batch = 1
        let optimizer = try LatentOptimizer(
            step: ReconstructionStep(generator: generator, loss: loss, batch: 1), settings: oneFrame, statistics: statistics)
        let indices = frameIndices ?? Array(0..<targets.shape[0])
        let wStd2 = statistics.wStd * statistics.wStd
        var results: [FrameInversion] = []
        var state: LatentOptimizer.State? = warmStart.map { optimizer.makeState(frame: $0, space: settings.space) }
        let shared = settings.space.sharedRows(numWs: generator.config.numWs)
        // The scene's shared rows, fixed by its first frame (or by the frame a resumed run continues from).
        var sceneRows: Tensor? = shared != nil ? state?.latents : nil
        var unsettled: Unsettled?
        func deliver(_ index: Int, _ done: FrameInversion) throws {
            try sink?([index], [done])
            results.append(done)
        }
        for f in 0..<targets.shape[0] {
            let target = targets.slice(f..<(f + 1))
            let fresh = state == nil || sceneStarts.contains(f)
            if fresh { sceneRows = nil }
            let n = fresh ? schedule?.first ?? steps * firstStepFactor : schedule?.warmSteps(frame: indices[f]) ?? steps
            if fresh {
                // The scene's draws start from its first frame's stream: the same in any worker.
                optimizer.reseed(stream: indices[f])
                state = optimizer.freshState(frames: [indices[f]])
            }
            // A warm frame keeps latents, noise and Adam's moments: the step sizes stay those that
            // suited the previous frame instead of restarting at full lr in every coordinate.
            let previous = state!.latents
            let schedule = ProjectorSchedule(steps: n, givenStart: settings.initial != nil)
            let rows = Float(previous.shape[1])
            let lambda = self.lambda
            let distance: LatentOptimizer.LatentTerm? = fresh ? nil : { latents, losses, gradient in
                var sum: Float = 0
                latents.withUnsafeBufferPointer { w in
                    previous.withUnsafeBufferPointer { p in
                        gradient.withUnsafeMutableBufferPointer { g in
                            for i in 0..<w.count {
                                let d = w[i] - p[i]
                                sum += d * d
                                g[i] += 2 * lambda * d / (wStd2 * rows)
                            }
                        }
                    }
                }
                losses[0] += lambda * sum / (wStd2 * rows)
            }
            let warmRate = warmLearningRate
            // The frame before, waiting for this one's first image to learn its final loss.
            let settle: ((Tensor) throws -> Void)? = unsettled.map { p in
                { image in
                    let finalLoss = optimizer.step.loss.evaluate(image, p.target)[0]
                    try deliver(p.index, optimizer.frameResult(p.state, index: 0, history: p.history, finalLoss: finalLoss, evaluations: p.evaluations))
                }
            }
            unsettled = nil
            let histories = try optimizer.optimize(
                &state!, targets: target, steps: n, frames: [indices[f]],
                schedule: { s in fresh ? schedule.at(s, wStd: statistics.wStd) : (warmRate, 0) },
                extra: distance, frozenRows: shared.flatMap { rows in sceneRows.map { (rows, $0) } }, observer: observer,
                firstImage: settle)
            if shared != nil, sceneRows == nil { sceneRows = state!.latents }
            if f + 1 < targets.shape[0], !sceneStarts.contains(f + 1) {
                unsettled = Unsettled(index: f, state: state!, history: histories[0], target: target, evaluations: n)
            } else {
                try deliver(f, optimizer.finish(state!, targets: target, histories: histories, evaluations: n)[0])
            }
        }
        return results
    }

    /// A finished frame whose final loss comes with the next frame's first step.
    private struct Unsettled {
        var index: Int
        var state: LatentOptimizer.State
        var history: [Float]
        var target: Tensor
        var evaluations: Int
    }
}
