import Engine
import Testing
import TestSupport

/// `LatentLine` against the plain formula in float64: start + t (end - start).
@Suite("LatentLine")
struct LatentLineTests {
    @Test func pointsAlongTheLineAndBeyond() {
        var rng = TestRandom(seed: 8)
        let start = Tensor(shape: [3, 5], values: rng.normals(15))
        let end = Tensor(shape: [3, 5], values: rng.normals(15))
        let line = LatentLine(start: start, end: end)
        #expect(sameBits(line.latent(at: 0), start))
        #expect(sameBits(line.latent(at: 1), end) || TensorComparison("t=1", ours: line.latent(at: 1), reference: end).maxAbsDiff <= 4.8e-7)
        let ts: [Float] = [-0.5, 0.25, 0.5, 1.75]
        let stacked = line.latents(at: ts)
        #expect(stacked.shape == [4, 3, 5])
        for (k, t) in ts.enumerated() {
            for i in 0..<15 {
                let exact = Double(start[flat: i]) + Double(t) * (Double(end[flat: i]) - Double(start[flat: i]))
                // Two float32 roundings (the difference and the product-plus-start) of values |x| < 8:
                // a few ulps of 8, 4.8e-7 each at most.
                #expect(abs(Double(stacked[flat: k * 15 + i]) - exact) <= 1e-6, "t \(t) element \(i)")
            }
            #expect(sameBits(line.latent(at: t), stacked.slice(k..<(k + 1)).reshaped([3, 5])))
        }
    }
}
