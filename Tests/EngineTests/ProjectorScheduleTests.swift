import Engine
import Foundation
import Testing
import TestSupport

/// `ProjectorSchedule` against stylegan2-ada-pytorch `projector.py`: the expected learning rates and
/// w noise scales are what the lines of projector.py's loop compute (run by
/// tools/make_optimizer_fixtures.py in float64, Tests/Fixtures/optimizer/projector_schedule.safetensors),
/// with its defaults: initial_learning_rate 0.1, initial_noise_factor 0.05, lr_rampdown_length 0.25,
/// lr_rampup_length 0.05, noise_ramp_length 0.75.
@Suite("ProjectorSchedule follows projector.py")
struct ProjectorScheduleTests {
    @Test("Every step", arguments: [1, 2, 7, 40, 100, 1000])
    func everyStep(numSteps: Int) throws {
        let file = try SafeTensorsFile(path: Fixtures.path("optimizer/projector_schedule.safetensors"))
        let wStd = try file.tensor("w_std")[flat: 0]
        let lrs = try file.tensor("steps\(numSteps)/lr")  // float64 in the file, read as float32
        let noises = try file.tensor("steps\(numSteps)/w_noise_scale")
        #expect(lrs.count == numSteps && noises.count == numSteps)
        let schedule = ProjectorSchedule(steps: numSteps)
        var worstLr: Float = 0, worstNoise: Float = 0
        for s in 0..<numSteps {
            let got = schedule.at(s, wStd: wStd)
            worstLr = max(worstLr, abs(got.lr - lrs[flat: s]))
            worstNoise = max(worstNoise, abs(got.wNoiseScale - noises[flat: s]))
        }
        // Ours runs in float32: t = step / num_steps and each ramp are a few roundings of values <= 1
        // (a few units of 2^-24 each), the cosine is taken in float64; times 0.1 that is ~1e-8, and the
        // fixture's own rounding to float32 adds half an ulp of 0.1 (3.7e-9): 1e-7 is 10x that. The
        // noise scale is w_std * 0.05 * ramp^2 with the same relative error, so 1e-7 * w_std.
        #expect(worstLr < 1e-7, "lr differs by \(worstLr)")
        #expect(worstNoise < 1e-7 * wStd, "w noise differs by \(worstNoise)")
    }

    @Test("Landmarks of a 1000-step run: 0 at step 0, ramps, plateau, noise gone at 75%")
    func landmarks() {
        // Values known in closed form; 1e-7 is everyStep's float32 argument. Halfway down the cosine
        // the ramp's slope is pi/2, and (1 - t) / 0.25 is computed from t = 0.875 rounded to float32,
        // so the error stays ~1e-8; 1e-6 there only says "the midpoint", the every-step test is the
        // tight one.
        let s = ProjectorSchedule(steps: 1000)
        #expect(s.at(0, wStd: 2).lr == 0)
        #expect(abs(s.at(25, wStd: 2).lr - 0.05) < 1e-7)  // halfway up the linear ramp
        #expect(abs(s.at(50, wStd: 2).lr - 0.1) < 1e-7)
        #expect(abs(s.at(750, wStd: 2).lr - 0.1) < 1e-7)
        #expect(abs(s.at(875, wStd: 2).lr - 0.05) < 1e-6)  // halfway down the cosine
        #expect(s.at(999, wStd: 2).lr < 1e-4)
        #expect(abs(s.at(0, wStd: 2).wNoiseScale - 0.1) < 1e-7)  // 2 * 0.05
        #expect(abs(s.at(375, wStd: 2).wNoiseScale - 0.025) < 1e-7)  // (1 - 0.5)^2 of it
        #expect((750..<1000).allSatisfy { s.at($0, wStd: 2).wNoiseScale == 0 })
    }

    @Test("Defaults are projector.py's")
    func defaults() {
        let s = ProjectorSchedule(steps: 10)
        #expect(s.initialLearningRate == 0.1 && s.initialNoiseFactor == 0.05)
        #expect(s.lrRampdownLength == 0.25 && s.lrRampupLength == 0.05 && s.noiseRampLength == 0.75)
    }
}
