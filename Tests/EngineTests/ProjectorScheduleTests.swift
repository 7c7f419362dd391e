import Engine
import Foundation
import Testing

/// `ProjectorSchedule` against stylegan2-ada-pytorch `projector.py`, whose loop computes, for
/// t = step / num_steps:
///
///     w_noise_scale = w_std * initial_noise_factor * max(0.0, 1.0 - t / noise_ramp_length) ** 2
///     lr_ramp = min(1.0, (1.0 - t) / lr_rampdown_length)
///     lr_ramp = 0.5 - 0.5 * np.cos(lr_ramp * np.pi)
///     lr_ramp = lr_ramp * min(1.0, t / lr_rampup_length)
///     lr = initial_learning_rate * lr_ramp
///
/// with initial_learning_rate 0.1, initial_noise_factor 0.05, lr_rampdown_length 0.25,
/// lr_rampup_length 0.05, noise_ramp_length 0.75 (its defaults).
@Suite("ProjectorSchedule follows projector.py")
struct ProjectorScheduleTests {
    static func official(step: Int, numSteps: Int, wStd: Double) -> (lr: Double, wNoise: Double) {
        let t = Double(step) / Double(numSteps)
        let wNoise = wStd * 0.05 * pow(max(0.0, 1.0 - t / 0.75), 2)
        var lrRamp = min(1.0, (1.0 - t) / 0.25)
        lrRamp = 0.5 - 0.5 * cos(lrRamp * Double.pi)
        lrRamp = lrRamp * min(1.0, t / 0.05)
        return (0.1 * lrRamp, wNoise)
    }

    @Test("Every step", arguments: [1, 2, 7, 40, 100, 1000])
    func everyStep(numSteps: Int) {
        let wStd: Float = 3.7
        let schedule = ProjectorSchedule(steps: numSteps)
        var worstLr = 0.0, worstNoise = 0.0
        for s in 0..<numSteps {
            let got = schedule.at(s, wStd: wStd)
            let want = Self.official(step: s, numSteps: numSteps, wStd: Double(wStd))
            worstLr = max(worstLr, abs(Double(got.lr) - want.lr))
            worstNoise = max(worstNoise, abs(Double(got.wNoiseScale) - want.wNoise))
        }
        #expect(worstLr < 1e-7, "lr differs by \(worstLr)")
        #expect(worstNoise < 1e-7 * Double(wStd), "w noise differs by \(worstNoise)")
    }

    @Test("Landmarks of a 1000-step run: 0 at step 0, ramps, plateau, noise gone at 75%")
    func landmarks() {
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
