import Engine
import Foundation
import Testing
import TestSupport

/// `Adam` against `torch.optim.Adam` (amsgrad off, no weight decay) written out in float64, with
/// the settings NVIDIA's `projector.py` uses: betas (0.9, 0.999), eps 1e-8, the learning rate set
/// afresh before every step.
@Suite("Adam matches torch.optim.Adam")
struct AdamTests {
    /// torch's update: m, v moving averages; step = lr / (1 - b1^t); denom = sqrt(v) / sqrt(1 - b2^t) + eps.
    struct ReferenceAdam {
        var m: [Double]
        var v: [Double]
        var t = 0
        let beta1 = 0.9, beta2 = 0.999, eps = 1e-8

        init(count: Int) {
            m = Array(repeating: 0, count: count)
            v = Array(repeating: 0, count: count)
        }

        mutating func step(_ p: inout [Double], gradient g: [Double], lr: Double) {
            t += 1
            let bc1 = 1 - pow(beta1, Double(t))
            let bc2 = 1 - pow(beta2, Double(t))
            for i in p.indices {
                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                let denom = v[i].squareRoot() / bc2.squareRoot() + eps
                p[i] -= (lr / bc1) * m[i] / denom
            }
        }
    }

    /// Runs both on the same gradients (`gradient(step)` as float32) and learning rates; returns the
    /// largest |difference| of the parameters over all steps and the parameters' largest move.
    static func compare(count: Int, steps: Int, lr: (Int) -> Float, gradient: (Int) -> [Float]) -> (maxDiff: Double, maxMove: Double) {
        var rng = TestRandom(seed: 99)
        let start = rng.normals(count)
        var p = Tensor(shape: [count], values: start)
        var adam = Adam(count: count)
        var ref = ReferenceAdam(count: count)
        var q = start.map(Double.init)
        var maxDiff = 0.0, maxMove = 0.0
        for s in 0..<steps {
            let g = gradient(s)
            adam.step(&p, gradient: Tensor(shape: [count], values: g), lr: lr(s))
            ref.step(&q, gradient: g.map(Double.init), lr: Double(lr(s)))
            for (a, b) in zip(p.scalars, q) { maxDiff = max(maxDiff, abs(Double(a) - b)) }
            for (b, s0) in zip(q, start) { maxMove = max(maxMove, abs(b - Double(s0))) }
        }
        #expect(adam.steps == steps)
        return (maxDiff, maxMove)
    }

    @Test("25 steps: gradients from 1e-9 to 1e3, zeros, sign flips, a changing learning rate")
    func severalSteps() {
        let count = 60
        var rng = TestRandom(seed: 5)
        // Per-coordinate scale: eps (1e-8) dominates the 1e-9 ones, is comparable to the 1e-8 ones.
        let scales: [Float] = [1, 1e-3, 1e-8, 1e-9, 1e3, 0]
        let grads = (0..<25).map { s in
            (0..<count).map { i -> Float in
                let scale = scales[i % scales.count]
                let g = scale * rng.normal()
                // A few coordinates flip sign every step, a few have a steady push.
                if i % 7 == 0 { return s % 2 == 0 ? abs(g) : -abs(g) }
                return i % 11 == 0 ? scale : g
            }
        }
        let r = Self.compare(count: count, steps: 25, lr: { 0.1 * Float($0 + 1) / 25 }, gradient: { grads[$0] })
        print("Adam, 25 steps: max |float - float64| \(r.maxDiff), largest move \(r.maxMove)")
        #expect(r.maxMove > 0.1, "the parameters should move: \(r.maxMove)")
        #expect(r.maxDiff < 5e-6, "max |float - float64 reference| = \(r.maxDiff)")
    }

    @Test("1000 steps: the bias corrections stay exact late in a run")
    func longRun() {
        let count = 16
        var rng = TestRandom(seed: 6)
        let r = Self.compare(count: count, steps: 1000, lr: { s in s < 500 ? 0.01 : 0.001 }, gradient: { _ in rng.normals(count, offset: 0.3) })
        print("Adam, 1000 steps: max |float - float64| \(r.maxDiff), largest move \(r.maxMove)")
        #expect(r.maxMove > 1)
        #expect(r.maxDiff < 2e-5 * max(1, r.maxMove), "max |float - float64 reference| = \(r.maxDiff) after moves of \(r.maxMove)")
    }

    @Test("The first step moves every coordinate by lr against its gradient's sign (bias-corrected)")
    func firstStep() {
        var p = Tensor(shape: [4], values: [0, 1, -1, 2])
        var adam = Adam(count: 4)
        let g: [Float] = [0.5, -3, 1e-3, 0]
        adam.step(&p, gradient: Tensor(shape: [4], values: g), lr: 0.1)
        // m_hat = g, sqrt(v_hat) = |g|: the move is lr * g / (|g| + eps).
        let expected = zip([0.0, 1, -1, 2], g.map(Double.init)).map { p0, gi in p0 - 0.1 * gi / (abs(gi) + 1e-8) }
        for (a, e) in zip(p.scalars, expected) { #expect(abs(Double(a) - e) < 1e-6, "\(p.scalars) vs \(expected)") }
    }
}
