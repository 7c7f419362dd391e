import Engine
import Testing
import TestSupport

/// `sequential` learns a frame's final loss from the next warm frame's first step instead of
/// rendering the frame once more: the loss it reports must be the loss of the frame it returns.
@Suite("sequential: deferred final losses")
struct SequentialProjectorTests {
    @Test("a fractional warm-step average is spread evenly: each frame gets the floor or the ceiling, and every run of frames the average")
    func fractionalWarmSteps() {
        for warm in [1.0, 2.5, 2.75, 3.2] {
            let schedule = SequentialProjector.Schedule(warm: warm, first: 10)
            let steps = (0..<40).map { schedule.warmSteps(frame: $0) }
            #expect(steps.allSatisfy { $0 == Int(warm) || $0 == Int(warm) + 1 }, "\(warm): \(steps)")
            // Any 8 consecutive frames take the average within one step.
            for start in 0..<32 {
                let sum = steps[start..<(start + 8)].reduce(0, +)
                #expect(abs(Double(sum) - 8 * warm) < 1, "\(warm) from frame \(start): \(steps)")
            }
        }
        #expect((0..<6).map { SequentialProjector.Schedule(warm: 2.5, first: 1).warmSteps(frame: $0) } == [2, 3, 2, 3, 2, 3])
        #expect(SequentialProjector.Schedule(warm: 2.75, first: 500).evaluations(frames: 202, sceneStarts: 8) == 534 + 4000)
    }

    @Test("every frame's final loss is its own rendering's loss, and frames arrive in order")
    func finalLossIsTheReturnedFramesLoss() throws {
        let (g, stats) = try InversionRecoveryTests.bundled()
        let targets = g.synthesize(ws: InversionRecoveryTests.knownPath(g, frames: 5, seed: 3))
        var settings = InversionSettings()
        settings.optimizeNoise = true  // the next frame must render the noise maps as they were left
        let loss = try ImageLosses.named("default")
        var projector = SequentialProjector(settings: settings, steps: 2)
        projector.firstStepFactor = 3
        // Scenes start at 0 and 3: frames 0, 1 and 3 are settled by their successor's first step,
        // 2 (a scene's last) and 4 (the run's last) by a render of their own.
        var order: [Int] = []
        let frames = try projector.run(
            generator: g, statistics: stats, loss: loss, targets: targets, sceneStarts: [0, 3],
            sink: { indices, _ in order += indices })
        #expect(order == [0, 1, 2, 3, 4])
        let step = ReconstructionStep(generator: g, loss: loss, batch: 1)
        for (f, frame) in frames.enumerated() {
            let own = step.loss(of: frame, target: targets.slice(f..<(f + 1)))
            // The same frame rendered at the same batch (1) and scored by the same loss: equal up to float32
            // rounding of the loss (6e-8 of it); 1e-6 allows a different render path, not a different frame.
            #expect(abs(frame.finalLoss - own) <= 1e-6 * max(1, abs(own)), "frame \(f): reported \(frame.finalLoss), its rendering \(own)")
            #expect(frame.lossHistory.count == (f == 0 || f == 3 ? 6 : 2))
        }
    }
}
