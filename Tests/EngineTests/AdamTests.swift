import Engine
import Foundation
import Testing
import TestSupport

/// `Adam` against the real `torch.optim.Adam` (amsgrad off, no weight decay, float32) with the settings
/// NVIDIA's `projector.py` uses: betas (0.9, 0.999), eps 1e-8, the learning rate set afresh before
/// every step. The expected parameters come from torch itself (tools/make_optimizer_fixtures.py,
/// Tests/Fixtures/optimizer/adam.safetensors), on the same float32 gradients.
@Suite("Adam matches torch.optim.Adam")
struct AdamTests {
    static let fixture = Fixtures.path("optimizer/adam.safetensors")

    /// Runs `Adam` through a fixture case; returns the largest |ours - torch| over every step and
    /// coordinate, and the largest |parameter| seen.
    static func compare(_ name: String) throws -> (maxDiff: Float, maxParameter: Float, steps: Int) {
        let file = try SafeTensorsFile(path: fixture)
        let start = try file.tensor("\(name)/start")
        let grads = try file.tensor("\(name)/grads")  // [steps, count]
        let lrs = try file.tensor("\(name)/lrs")  // [steps]
        let expected = try file.tensor("\(name)/params")  // [steps, count]: torch's parameters after each step
        let (steps, count) = (grads.shape[0], grads.shape[1])
        var p = start
        var adam = Adam(count: count)
        var maxDiff: Float = 0, maxParameter: Float = 0
        for s in 0..<steps {
            adam.step(&p, gradient: grads.slice(s..<(s + 1)).reshaped([count]), lr: lrs[flat: s])
            for i in 0..<count {
                maxDiff = max(maxDiff, abs(p[flat: i] - expected[flat: s * count + i]))
                maxParameter = max(maxParameter, abs(expected[flat: s * count + i]))
            }
        }
        #expect(adam.steps == steps)
        return (maxDiff, maxParameter, steps)
    }

    /// Our step does torch's float32 operations in torch's order, so each step can differ from torch's
    /// only where torch's vectorised kernels fuse a multiply-add (lerp, addcmul, addcdiv): at most
    /// about one rounding of the update (|update| <= lr / (1 - beta1) ~ 1 at worst, lr in practice) and
    /// one of the parameter (ulp(|p|) = |p| * 2^-23). Over S steps that adds up to at most
    /// S * (2^-23 * max|p| + 2^-24 * lr), the bound used below.
    static func bound(steps: Int, maxParameter: Float, lr: Float) -> Float {
        Float(steps) * (maxParameter * 0x1p-23 + lr * 0x1p-24)
    }

    @Test("25 steps: gradients from 1e-9 to 1e3, zeros, sign flips, a changing learning rate")
    func severalSteps() throws {
        let r = try Self.compare("adam25")
        let bound = Self.bound(steps: r.steps, maxParameter: r.maxParameter, lr: 0.1)
        print("Adam vs torch, 25 steps: max |ours - torch| \(r.maxDiff), bound \(bound)")
        #expect(r.maxDiff <= bound, "max |ours - torch| = \(r.maxDiff), bound \(bound)")
    }

    @Test("1000 steps: the bias corrections stay exact late in a run")
    func longRun() throws {
        let r = try Self.compare("adam1000")
        let bound = Self.bound(steps: r.steps, maxParameter: r.maxParameter, lr: 0.01)
        print("Adam vs torch, 1000 steps: max |ours - torch| \(r.maxDiff), bound \(bound)")
        #expect(r.maxDiff <= bound, "max |ours - torch| = \(r.maxDiff), bound \(bound)")
    }

    @Test("The first step moves every coordinate by lr against its gradient's sign (bias-corrected)")
    func firstStep() {
        var p = Tensor(shape: [4], values: [0, 1, -1, 2])
        var adam = Adam(count: 4)
        let g: [Float] = [0.5, -3, 1e-3, 0]
        adam.step(&p, gradient: Tensor(shape: [4], values: g), lr: 0.1)
        // m_hat = g, sqrt(v_hat) = |g|: the move is lr * g / (|g| + eps), computed here in float64;
        // float32 holds each result within half an ulp of |p| <= 2 (1.2e-7), plus the step's own
        // roundings (a few ulps of 0.1): 1e-6 covers both with margin and no more.
        let expected = zip([0.0, 1, -1, 2], g.map(Double.init)).map { p0, gi in p0 - 0.1 * gi / (abs(gi) + 1e-8) }
        for (a, e) in zip(p.scalars, expected) { #expect(abs(Double(a) - e) < 1e-6, "\(p.scalars) vs \(expected)") }
    }
}
