import Engine
import Foundation
import Testing
import TestSupport

/// NVIDIA's projector noise regulariser and re-normalisation: numpy goldens, the float64 reference,
/// finite differences.
@Suite struct NoiseRegularizerTests {
    @Test func goldensFromNumpy() throws {
        for golden in try LossFixtures.goldens().noise {
            let noise = LossFixtures.noise(seed: golden.seed, shape: golden.shape)
            let ours = NoiseRegularizer().evaluate(noise)
            #expect(ours.count == golden.values.count, "\(golden.name)")
            for (a, b) in zip(ours, golden.values) {
                // As below: float64 sums, one float32 rounding (measured 5e-8 relative); 1e-12 for b = 0.
                #expect(abs(Double(a) - b) <= 1e-6 * b + 1e-12, "\(golden.name): ours \(a), numpy \(b)")
            }
        }
    }

    @Test(arguments: [[4, 4], [8, 8], [16, 16], [17, 20], [2, 32, 32], [1, 64, 64]])
    func gradientMatchesFiniteDifferences(shape: [Int]) {
        // A smooth component makes the autocorrelations, and so the gradient, far from zero.
        var noise = LossFixtures.noise(seed: 21, shape: shape)
        let h = shape[shape.count - 2], w = shape[shape.count - 1]
        noise = Tensor(shape: shape, values: noise.scalars.enumerated().map { i, v in
            v + 0.8 * Float(sin(0.4 * Double((i / w) % h)) * cos(0.3 * Double(i % w)))
        })
        let regularizer = NoiseRegularizer()
        var g: Tensor? = Tensor(shape: shape, repeating: 0.5)
        let values = regularizer.evaluate(noise, accumulatingGradient: &g, scale: 3)
        let grad = g!.scalars.map { (Double($0) - 0.5) / 3 }
        let x = noise.scalars.map { Double($0) }
        let maps = x.count / (h * w)
        let f = { (v: [Double]) -> Double in
            (0..<maps).reduce(0.0) { $0 + ReferenceLosses.noiseRegularizer(Array(v[($1 * h * w)..<(($1 + 1) * h * w)]), h: h, w: w) }
        }
        for m in 0..<maps {
            let reference = ReferenceLosses.noiseRegularizer(Array(x[(m * h * w)..<((m + 1) * h * w)]), h: h, w: w)
            // Lag means in float64, the value rounded to float32 once (2^-24 = 6e-8 relative; measured 6e-8).
            #expect(abs(Double(values[m]) - reference) <= 1e-6 * reference, "map \(m): ours \(values[m]), reference \(reference)")
        }
        let largest = grad.map(abs).max()!
        var random = GaussianNoise(seed: 5)
        let direction = (0..<x.count).map { _ in Double(random.next()) }
        let fd = ReferenceLosses.centralDifference(f, at: x, direction: direction)
        let analytic = zip(grad, direction).reduce(0) { $0 + $1.0 * $1.1 }
        // Relative to |fd|, a dot product over up to 4,096 coordinates with random signs that cancels to
        // ~1/64 of its terms: the gradient's float32 error (~2e-7 of cw (left + right) and ch (above +
        // below), which cancel in each element) is not cancelled with it. Measured up to 4e-5 at 64x64
        // (deterministic, no BLAS), 2.5x under the old 1e-4; 1e-3, while a missing scale or factor is >= 1e-2.
        // The float64 difference itself is exact to ~1e-10 (h = 1e-6).
        #expect(abs(fd - analytic) <= 1e-3 * abs(fd), "\(shape): directional fd \(fd), analytic \(analytic)")
        for _ in 0..<10 {
            let index = Int(random.nextUInt64() % UInt64(x.count))
            let fd = ReferenceLosses.centralDifference(f, at: x, index: index)
            // One coordinate against the largest element: the same float32 error, without the cancelling
            // dot: measured <= 8.7e-6 of the largest; 1e-4.
            #expect(abs(fd - grad[index]) <= 1e-4 * largest, "\(shape) at \(index): fd \(fd), analytic \(grad[index])")
        }
    }

    @Test func totalOverBuffers() {
        let buffers = [LossFixtures.noise(seed: 1, shape: [4, 4]), LossFixtures.noise(seed: 2, shape: [16, 16])]
        let regularizer = NoiseRegularizer()
        var gradients: [Tensor]? = buffers.map { Tensor(zeros: $0.shape) }
        let total = regularizer.total(buffers, accumulatingGradients: &gradients, scale: 1e5)
        let separate = buffers.map { regularizer.evaluate($0)[0] }
        #expect(abs(total - separate.reduce(0, +)) <= 1e-6 * total)  // two float32 values added in float64 vs float32: <= 2^-24
        for (buffer, gradient) in zip(buffers, gradients!) {
            var single: Tensor? = Tensor(zeros: buffer.shape)
            _ = regularizer.evaluate(buffer, accumulatingGradient: &single, scale: 1e5)
            #expect(gradient == single!)
        }
        var none: [Tensor]? = nil
        #expect(regularizer.total(buffers, accumulatingGradients: &none, scale: 1) == total)
    }

    @Test func normalizeGivesZeroMeanUnitSquare() {
        var noise = LossFixtures.noise(seed: 3, shape: [3, 16, 16])
        noise = Tensor(shape: noise.shape, values: noise.scalars.enumerated().map { i, v in 2.5 * v + Float(i / 256) })
        NoiseRegularizer.normalize(&noise)
        for m in 0..<3 {
            let map = noise.scalars[(m * 256)..<((m + 1) * 256)].map { Double($0) }
            let mean = map.reduce(0, +) / 256
            let square = map.reduce(0) { $0 + $1 * $1 } / 256
            // Scaled in float32 by float64 statistics of 256 values: each value off by <= 2^-24 relative, so
            // the mean by <= 6e-8 * mean |x| (~1) and the mean square by <= 2.4e-7 (measured 4.6e-8).
            #expect(abs(mean) < 1e-6 && abs(square - 1) < 1e-5, "map \(m): mean \(mean), mean square \(square)")
        }
        var flat = Tensor(shape: [8, 8], repeating: 3)
        NoiseRegularizer.normalize(&flat)
        #expect(flat.scalars.allSatisfy { $0 == 0 })
    }
}
