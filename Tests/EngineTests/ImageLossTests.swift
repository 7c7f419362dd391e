import Engine
import Foundation
import Testing
import TestSupport

/// The image losses: values against hand computations, known identities, the float64 references in
/// TestSupport and the numpy goldens (tools/make_loss_goldens.py); gradients against central finite
/// differences of the references.
@Suite struct ImageLossTests {
    static let lossNames = ["l1", "mse", "msssim", "lap", "mix", "default"]

    /// The float64 reference of the loss called `name`: the sum over samples.
    static func referenceSum(_ name: String, _ x: [Double], _ y: [Double], shape: [Int]) -> Double {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        func msssim() -> [Double] { ReferenceLosses.msssim(x, y, n: n, c: c, h: h, w: w).map { 1 - $0 } }
        func lap() -> [Double] {
            ReferenceLosses.laplacianL1(
                x, y, n: n, c: c, h: h, w: w, levels: LaplacianPyramidL1Loss.bandCount(height: h, width: w))
        }
        func mix() -> [Double] { zip(msssim(), ReferenceLosses.l1(x, y, n: n)).map { 0.84 * $0 + 0.16 * $1 } }
        let values: [Double]
        switch name {
        case "l1": values = ReferenceLosses.l1(x, y, n: n)
        case "mse": values = ReferenceLosses.mse(x, y, n: n)
        case "msssim": values = msssim()
        case "lap": values = lap()
        case "mix": values = mix()
        case "default": values = zip(mix(), lap()).map { $0 + $1 }
        default: fatalError(name)
        }
        return values.reduce(0, +)
    }

    static func doubles(_ t: Tensor) -> [Double] { t.scalars.map { Double($0) } }

    // MARK: - Values

    @Test func l1AndMSEByHand() throws {
        let p = Tensor(shape: [2, 1, 1, 4], values: [0, 0.5, -1, 1, 0.25, 0.25, 0.25, 0.25])
        let t = Tensor(shape: [2, 1, 1, 4], values: [0, 0, 0, 0, 0, 0.5, 0.25, -0.75])
        var g: Tensor? = Tensor(zeros: p.shape)
        let l1 = L1Loss().evaluate(p, t, gradient: &g)
        #expect(l1 == [0.625, 0.375])  // (0 + 0.5 + 1 + 1) / 4, (0.25 + 0.25 + 0 + 1) / 4
        #expect(g!.scalars == [0, 0.25, -0.25, 0.25, 0.25, -0.25, 0, 0.25])  // sign / 4, sign(0) = 0
        let mse = MSELoss().evaluate(p, t, gradient: &g)
        #expect(mse == [0.5625, 0.28125])  // (0.25 + 1 + 1) / 4, (0.0625 + 0.0625 + 0 + 1) / 4
        #expect(g!.scalars == [0, 0.25, -0.5, 0.5, 0.125, -0.125, 0, 0.5])  // 2 d / 4
    }

    @Test(arguments: lossNames, [[2, 3, 44, 44], [1, 2, 23, 25], [1, 3, 33, 35], [1, 1, 14, 12]])
    func valueMatchesReference(name: String, shape: [Int]) throws {
        let (p, t) = LossFixtures.images(seed: 7, n: shape[0], c: shape[1], h: shape[2], w: shape[3])
        let loss = try ImageLosses.named(name)
        let ours = loss.evaluate(p, t).reduce(0.0) { $0 + Double($1) }
        let reference = Self.referenceSum(name, Self.doubles(p), Self.doubles(t), shape: shape)
        // Float32 windows and sums, float64 means, one float32 rounding per sample (<= 6e-8 of a value <= 1,
        // n <= 2): measured <= 6e-8. 5e-7 leaves 8x; deterministic (no BLAS, no threads).
        #expect(abs(ours - reference) <= 5e-7 * max(1, abs(reference)), "\(name) \(shape): ours \(ours), reference \(reference)")
    }

    @Test func goldensFromNumpy() throws {
        for golden in try LossFixtures.goldens().images {
            let s = golden.shape
            let (p, t) = LossFixtures.images(seed: golden.seed, n: s[0], c: s[1], h: s[2], w: s[3])
            #expect(MSSSIMLoss.scaleCount(height: s[2], width: s[3]) == golden.scales, "\(golden.name)")
            #expect(LaplacianPyramidL1Loss.bandCount(height: s[2], width: s[3]) == golden.laplacian_levels, "\(golden.name)")
            // Absolute, values < 1: the float32 result's own rounding is <= 3e-8 and the float32 windows
            // average out over the positions; measured <= 4.8e-8 (MS-SSIM near 0.99). 2e-7 = 4x.
            let checks: [(String, [Float], [Double], Double)] = [
                ("msssim", MSSSIMLoss().similarity(p, t), golden.msssim, 2e-7),
                ("lap", LaplacianPyramidL1Loss().evaluate(p, t), golden.laplacian_l1, 2e-7),
                ("l1", L1Loss().evaluate(p, t), golden.l1, 2e-7),
                ("mse", MSELoss().evaluate(p, t), golden.mse, 2e-7),
            ]
            for (what, ours, expected, tolerance) in checks {
                #expect(ours.count == expected.count)
                for (a, b) in zip(ours, expected) {
                    #expect(abs(Double(a) - b) <= tolerance, "\(golden.name) \(what): ours \(a), numpy \(b)")
                }
            }
        }
    }

    // MARK: - MS-SSIM identities

    @Test func scalesAndExponents() {
        let cases: [(Int, Int, Int)] = [(11, 11, 1), (20, 30, 1), (21, 30, 2), (22, 22, 2), (43, 43, 3), (44, 44, 3), (64, 64, 3),
                                        (64, 300, 3), (128, 128, 4), (256, 256, 5), (1024, 1024, 5)]
        for (h, w, scales) in cases { #expect(MSSSIMLoss.scaleCount(height: h, width: w) == scales, "\(h) x \(w)") }
        let three = MSSSIMLoss.exponents(scales: 3)
        // Float64 normalisation of 3 or 5 weights: a few 2^-53 ~ 1e-16.
        #expect(abs(three.reduce(0, +) - 1) < 1e-15)
        #expect(zip(three, [0.0448, 0.2856, 0.3001]).allSatisfy { abs($0 - $1 / 0.6305) < 1e-15 })
        #expect(abs(MSSSIMLoss.exponents(scales: 5).reduce(0, +) - 1) < 1e-15)
        #expect(MSSSIMLoss.c1 == 0.02 * 0.02 && MSSSIMLoss.c2 == 0.06 * 0.06)
    }

    @Test(arguments: [[1, 3, 64, 64], [2, 1, 45, 47], [1, 2, 11, 11]])
    func identicalImagesScoreOneWithZeroGradient(shape: [Int]) {
        let (p, _) = LossFixtures.images(seed: 3, n: shape[0], c: shape[1], h: shape[2], w: shape[3])
        var g: Tensor? = Tensor(zeros: p.shape)
        let loss = MSSSIMLoss().evaluate(p, p, gradient: &g)
        // x = y: each term's numerator and denominator are the same float32 expressions, so 1 - ms-ssim and
        // its gradient vanish up to rounding (measured 0 and 1.2e-10); a real gradient element is ~1/pixels
        // (>= 1e-5 here), so 1e-7 still sees a wrong sign or missing term.
        #expect(loss.allSatisfy { abs($0) < 1e-6 }, "\(loss)")
        let worst = g!.scalars.map { abs($0) }.max()!
        #expect(worst < 1e-7, "largest gradient \(worst)")
    }

    /// Constant images c and c + delta: every cs is C2 / C2 = 1, so MS-SSIM is the last scale's luminance
    /// term to its exponent, l = (2 a b + C1) / (a^2 + b^2 + C1) with a = c + 1, b = c + delta + 1.
    @Test(arguments: [(0.1, 0.2), (-0.5, 0.3), (0.9, -1.0)])
    func constantShiftHasClosedForm(c: Double, delta: Double) {
        let x = Tensor(shape: [1, 3, 64, 64], repeating: Float(c))
        let y = Tensor(shape: [1, 3, 64, 64], repeating: Float(c + delta))
        let a = Double(Float(c)) + 1, b = Double(Float(c + delta)) + 1
        let l = (2 * a * b + MSSSIMLoss.c1) / (a * a + b * b + MSSSIMLoss.c1)
        let expected = pow(l, MSSSIMLoss.exponents(scales: 3)[2])
        let ours = Double(MSSSIMLoss().similarity(x, y)[0])
        // Constant images: float32 means of one value, C2 / C2 = 1, one power: a few 2^-24 (measured 2e-8).
        #expect(abs(ours - expected) < 1e-6, "ours \(ours), closed form \(expected)")
    }

    /// A textured image and the same shifted: cs is exactly 1 at every scale, so only luminance is lost.
    @Test func texturedShiftMatchesReference() {
        let (p, _) = LossFixtures.images(seed: 5, n: 1, c: 3, h: 64, w: 64)
        let shifted = Tensor(shape: p.shape, values: p.scalars.map { $0 * 0.5 + 0.3 })
        let base = Tensor(shape: p.shape, values: p.scalars.map { $0 * 0.5 })
        let ours = Double(MSSSIMLoss().similarity(shifted, base)[0])
        let reference = ReferenceLosses.msssim(Self.doubles(shifted), Self.doubles(base), n: 1, c: 3, h: 64, w: 64)[0]
        // As valueMatchesReference (5e-7 relative there); measured 1.7e-9.
        #expect(abs(ours - reference) < 2e-6, "ours \(ours), reference \(reference)")
        #expect(ours < 1 && ours > 0.9)
    }

    /// y = -x makes cs negative at the finest scale: relu gives MS-SSIM 0, loss 1 and no gradient, in the
    /// fast code and in finite differences of the reference.
    @Test func negativeStructureIsClampedConsistently() {
        let (p, _) = LossFixtures.images(seed: 9, n: 1, c: 2, h: 44, w: 44)
        let negated = Tensor(shape: p.shape, values: p.scalars.map { -$0 })
        var g: Tensor? = Tensor(shape: p.shape, repeating: 0)
        let loss = MSSSIMLoss().evaluate(p, negated, gradient: &g)
        #expect(loss == [1])
        #expect(g!.scalars.allSatisfy { $0 == 0 })
        let x = Self.doubles(p), y = Self.doubles(negated)
        let f = { (v: [Double]) in Self.referenceSum("msssim", v, y, shape: [1, 2, 44, 44]) }
        #expect(f(x) == 1)
        for index in [0, 500, 2000, 3871] {
            // Float64, flat (relu at 0): the difference is exactly 0 unless a step crosses the clamp.
            #expect(abs(ReferenceLosses.centralDifference(f, at: x, index: index)) < 1e-12)
        }
    }

    // MARK: - Gradients

    @Test(arguments: lossNames, [[2, 3, 44, 44], [1, 2, 23, 25], [1, 3, 33, 35], [1, 1, 14, 12]])
    func gradientMatchesFiniteDifferences(name: String, shape: [Int]) throws {
        let (p, t) = LossFixtures.images(seed: 11, n: shape[0], c: shape[1], h: shape[2], w: shape[3])
        let loss = try ImageLosses.named(name)
        var g: Tensor? = Tensor(zeros: p.shape)
        _ = loss.evaluate(p, t, gradient: &g)
        let grad = Self.doubles(g!)
        let x = Self.doubles(p), y = Self.doubles(t)
        let f = { (v: [Double]) in Self.referenceSum(name, v, y, shape: shape) }
        let norm = grad.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let largest = grad.map(abs).max()!
        #expect(largest > 0)

        // Directional derivatives along random directions (every coordinate at once).
        var random = GaussianNoise(seed: 42)
        for _ in 0..<3 {
            let direction = (0..<x.count).map { _ in Double(random.next()) }
            let fd = ReferenceLosses.centralDifference(f, at: x, direction: direction)
            let analytic = zip(grad, direction).reduce(0) { $0 + $1.0 * $1.1 }
            let error = abs(fd - analytic) / max(abs(fd), 0.1 * norm)
            // Float32 gradient (~1e-6 relative per element) dotted with a random direction over up to 11,616
            // pixels; the floor 0.1 ||g|| bounds the cancellation's gain to ~10x: ~1e-5, measured 1.8e-5
            // (mix). The float64 difference is exact to ~1e-9. 2e-4 = 11x.
            #expect(error < 2e-4, "\(name) \(shape): directional fd \(fd), analytic \(analytic), error \(error)")
        }
        // Single coordinates: the largest few and some at random.
        let top = grad.indices.sorted { abs(grad[$0]) > abs(grad[$1]) }.prefix(4)
        let picks = Array(top) + (0..<8).map { _ in Int(random.nextUInt64() % UInt64(x.count)) }
        for index in picks {
            let fd = ReferenceLosses.centralDifference(f, at: x, index: index)
            // One element: ~1e-6 relative float32 error, measured <= 1.5e-6 of the largest. 2e-5 = 13x.
            #expect(
                abs(fd - grad[index]) <= 2e-5 * largest,
                "\(name) \(shape) at \(index): fd \(fd), analytic \(grad[index]) (largest \(largest))")
        }
    }

    @Test func gradientAccumulatesWithScale() throws {
        let (p, t) = LossFixtures.images(seed: 2, n: 2, c: 3, h: 32, w: 32)
        for name in ImageLosses.names {
            let loss = try ImageLosses.named(name)
            var plain: Tensor? = Tensor(zeros: p.shape)
            _ = loss.evaluate(p, t, gradient: &plain)
            var accumulated: Tensor? = Tensor(shape: p.shape, repeating: 1)
            _ = loss.evaluate(p, t, accumulatingGradient: &accumulated, scale: 2)
            _ = loss.evaluate(p, t, accumulatingGradient: &accumulated, scale: -0.5)
            let expected = Tensor(shape: p.shape, values: plain!.scalars.map { 1 + 1.5 * $0 })
            let comparison = TensorComparison(name, ours: accumulated!, reference: expected)
            // 1 + 2 g - 0.5 g against 1 + 1.5 g, values ~1: two float32 roundings (2^-23 = 1.2e-7 each; measured 2.4e-7).
            #expect(comparison.maxAbsDiff < 1e-6, "\(comparison)")
            var none: Tensor? = nil
            #expect(loss.evaluate(p, t, gradient: &none) == loss.evaluate(p, t))
        }
    }

    // MARK: - Catalogue and combinations

    @Test func catalogue() throws {
        for name in ImageLosses.names { #expect(try ImageLosses.named(name).name == name) }
        let unknown = #expect(throws: LinstoryError.self) { try ImageLosses.named("vgg") }
        #expect(unknown?.kind == .invalidValue)
        let standard = WeightedSumLoss.standard()
        #expect(standard.terms.map(\.loss.name) == ["mix", "lap"])
        let mix = WeightedSumLoss.mix()
        #expect(mix.terms.map(\.weight) == [0.84, 1 - 0.84])
        let (p, t) = LossFixtures.images(seed: 1, n: 2, c: 3, h: 64, w: 64)
        let parts = mix.breakdown(p, t)
        let total = mix.evaluate(p, t)
        for s in 0..<2 {
            // The same float32 weighted sum of values < 1, in another order: a few 6e-8 (measured 7e-9).
            #expect(abs(total[s] - (0.84 * parts[0].values[s] + 0.16 * parts[1].values[s])) < 1e-6)
        }
    }
}
