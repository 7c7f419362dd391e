import Foundation

/// NVIDIA's projector schedule (stylegan2-ada-pytorch `projector.py`): learning rate 0.1 with a linear
/// ramp-up over the first 5% of the steps and a cosine ramp-down over the last 25%, and Gaussian
/// noise on w of 0.05 x w_std that decays quadratically to zero at 75% of the steps.
public struct ProjectorSchedule: Sendable, Equatable {
    public var steps: Int
    public var initialLearningRate: Float = 0.1
    public var initialNoiseFactor: Float = 0.05
    public var lrRampdownLength: Float = 0.25
    public var lrRampupLength: Float = 0.05
    public var noiseRampLength: Float = 0.75

    public init(steps: Int) { self.steps = steps }

    /// (learning rate, w noise scale) for `step` in 0..<steps.
    public func at(_ step: Int, wStd: Float) -> (lr: Float, wNoiseScale: Float) {
        let t = Float(step) / Float(max(steps, 1))
        let noiseRamp = max(0, 1 - t / noiseRampLength)
        let wNoiseScale = wStd * initialNoiseFactor * noiseRamp * noiseRamp
        var lrRamp = min(1, (1 - t) / lrRampdownLength)
        lrRamp = 0.5 - 0.5 * Float(cos(Double(lrRamp) * .pi))
        lrRamp *= min(1, t / lrRampupLength)
        return (initialLearningRate * lrRamp, wNoiseScale)
    }
}
