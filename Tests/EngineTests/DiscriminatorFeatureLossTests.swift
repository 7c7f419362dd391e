import Engine
import Foundation
import Testing
import TestSupport

/// The `dfeat` loss (distances between the discriminator's unit-normalised block activations) and
/// the loss grammar that mixes it, `lpips` and the pixel losses.
@Suite("Discriminator-feature loss and loss mixes")
struct DiscriminatorFeatureLossTests {
    /// The bundled model's discriminator (64 px), shipped in assets/.
    static let bundledPath = Fixtures.repoRoot.appendingPathComponent("assets/bbb64.discriminator.safetensors").path
    static let bundled = Result { try DiscriminatorCheckpoint.load(path: bundledPath).discriminator }

    static func images(_ n: Int, seed: UInt64, scale: Float = 0.5) -> Tensor {
        var rng = TestRandom(seed: seed)
        return rng.tensor([n, 3, 64, 64], scale: scale)
    }

    /// The loss in float64 from D's activations: sum over blocks of mean over pixels of
    /// ||x / |x| - y / |y| ||^2, per sample.
    static func reference(_ d: Discriminator, _ x: Tensor, _ y: Tensor) -> [Double] {
        let n = x.shape[0]
        let ax = d(x), ay = d(y)
        var out = [Double](repeating: 0, count: n)
        for layer in d.outputs where !layer.inEpilogue {
            let fx = ax[layer]!, fy = ay[layer]!
            let c = fx.shape[1], hw = fx.count / (n * c)
            for s in 0..<n {
                var total = 0.0
                for q in 0..<hw {
                    var nx = 0.0, ny = 0.0
                    for ch in 0..<c {
                        nx += Double(fx[flat: (s * c + ch) * hw + q]) * Double(fx[flat: (s * c + ch) * hw + q])
                        ny += Double(fy[flat: (s * c + ch) * hw + q]) * Double(fy[flat: (s * c + ch) * hw + q])
                    }
                    nx = nx.squareRoot() + 1e-10
                    ny = ny.squareRoot() + 1e-10
                    for ch in 0..<c {
                        let diff = Double(fx[flat: (s * c + ch) * hw + q]) / nx - Double(fy[flat: (s * c + ch) * hw + q]) / ny
                        total += diff * diff
                    }
                }
                out[s] += total / Double(hw)
            }
        }
        return out
    }

    @Test func valuesMatchAFloat64Reference() throws {
        let d = try Self.bundled.get()
        let x = Self.images(3, seed: 1), y = Self.images(3, seed: 2)
        let loss = DiscriminatorFeatureLoss(discriminator: d)
        let ours = loss.evaluate(x, y)
        let ref = Self.reference(d, x, y)
        for i in 0..<3 { #expect(abs(Double(ours[i]) - ref[i]) < 1e-5 * max(1, ref[i]), "sample \(i): \(ours[i]) vs \(ref[i])") }
        #expect(ref.allSatisfy { $0 > 0.01 })
        // Identical images are at distance zero.
        #expect(loss.evaluate(y, y).allSatisfy { abs($0) < 1e-6 })
    }

    /// Central differences on a few pixels of each sample, against the analytic gradient (through
    /// the normalisation and D's backward).
    @Test func gradientMatchesFiniteDifferences() throws {
        let d = try Self.bundled.get()
        let x = Self.images(2, seed: 3), y = Self.images(2, seed: 4)
        let loss = DiscriminatorFeatureLoss(discriminator: d)
        var g: Tensor? = Tensor(zeros: x.shape)
        _ = loss.evaluate(x, y, gradient: &g)
        var rng = TestRandom(seed: 5)
        var worst: Double = 0
        for _ in 0..<24 {
            let i = Int((rng.normal() * 1e4).magnitude) % x.count
            let h: Float = 1e-2
            var plus = x, minus = x
            plus.withUnsafeMutableBufferPointer { $0[i] += h }
            minus.withUnsafeMutableBufferPointer { $0[i] -= h }
            let numeric = (Self.reference(d, plus, y).reduce(0, +) - Self.reference(d, minus, y).reduce(0, +)) / Double(2 * h)
            let analytic = Double(g![flat: i])
            worst = max(worst, abs(numeric - analytic) / max(1e-3, abs(numeric)))
        }
        #expect(worst < 2e-2, "worst relative difference \(worst)")
    }

    /// The target's features are kept between calls; a new target is not mistaken for the last.
    @Test func theTargetCacheNeverGivesAnotherTargetsValues() throws {
        let d = try Self.bundled.get()
        let x = Self.images(2, seed: 6), y1 = Self.images(2, seed: 7), y2 = Self.images(2, seed: 8)
        let kept = DiscriminatorFeatureLoss(discriminator: d)
        _ = kept.evaluate(x, y1)
        #expect(kept.evaluate(x, y1) == DiscriminatorFeatureLoss(discriminator: d).evaluate(x, y1))
        #expect(kept.evaluate(x, y2) == DiscriminatorFeatureLoss(discriminator: d).evaluate(x, y2))
        // Batch sizes get their own workspaces.
        #expect(kept.evaluate(x.slice(0..<1), y2.slice(0..<1)) == DiscriminatorFeatureLoss(discriminator: d).evaluate(x.slice(0..<1), y2.slice(0..<1)))
    }

    /// The `ImageLoss` contract: the gradient is added, scaled, to what the tensor holds.
    @Test func gradientsAccumulateWithTheirScale() throws {
        let d = try Self.bundled.get()
        let x = Self.images(2, seed: 9), y = Self.images(2, seed: 10)
        let loss = DiscriminatorFeatureLoss(discriminator: d)
        var once: Tensor? = Tensor(zeros: x.shape)
        _ = loss.evaluate(x, y, gradient: &once)
        var acc: Tensor? = once
        _ = loss.evaluate(x, y, accumulatingGradient: &acc, scale: 2)
        let expected = Tensor(shape: x.shape, values: once!.scalars.map { 3 * $0 })
        #expect(TensorComparison("3g", ours: acc!, reference: expected).relativeError < 1e-6)
    }

    @Test func mixesAreWeightedSums() throws {
        let x = Self.images(2, seed: 11, scale: 0.9), y = Self.images(2, seed: 12, scale: 0.9)
        let mix = try ImageLosses.make("0.5*l1 + lap", files: LossFiles())
        let expected = zip(L1Loss().evaluate(x, y), LaplacianPyramidL1Loss().evaluate(x, y)).map { 0.5 * $0 + $1 }
        let got = mix.evaluate(x, y)
        for i in 0..<2 { #expect(abs(got[i] - expected[i]) < 1e-6) }
        #expect(mix.name == "0.5*l1 + lap")
        #expect(try ImageLosses.make("l1", files: LossFiles()).name == "l1")
    }

    @Test func badSpecsAndMissingFilesAreOneLineErrors() throws {
        func failure(_ spec: String, _ files: LossFiles = LossFiles(), resolution: Int? = nil) -> String? {
            linstoryFailure { _ = try ImageLosses.make(spec, files: files, resolution: resolution) }
        }
        #expect(failure("l2")?.contains("unknown loss \"l2\"") == true)
        #expect(failure("x*l1")?.contains("not a positive number") == true)
        #expect(failure("l1+")?.contains("is not a term") == true)
        #expect(failure("d-features")?.contains("--discriminator") == true)
        #expect(failure("lpips")?.contains("--lpips-vgg") == true)
        // A discriminator for another resolution than the model's.
        let path = Self.bundledPath
        let wrong = try #require(failure("dfeat", LossFiles(discriminator: path), resolution: 32))
        #expect(wrong.contains(path) && wrong.contains("64 px"))
        #expect(failure("0.5*dfeat+l1", LossFiles(discriminator: path), resolution: 64) == nil)
    }

    /// The bundled model's discriminator ships beside it and is found there; a .pkl is its own.
    @Test func theDiscriminatorIsFoundBesideTheModel() {
        let model = Fixtures.repoRoot.appendingPathComponent("assets/bbb64.safetensors").path
        let found = LossFiles().resolved(loss: "d-features", model: model)
        #expect(found.discriminator == Fixtures.repoRoot.appendingPathComponent("assets/bbb64.discriminator.safetensors").path)
        #expect(FileManager.default.fileExists(atPath: found.discriminator!))
        #expect(LossFiles().resolved(loss: "default", model: model).discriminator == nil)
        #expect(LossFiles().resolved(loss: "l1+0.2*dfeat", model: "/x/network-snapshot.pkl").discriminator == "/x/network-snapshot.pkl")
    }

    /// Over 256 px, LPIPS sees frames area-averaged to 256 (NVIDIA's projector): the values are the
    /// inner loss's on the averaged images, and the gradient is the mean's adjoint (checked against
    /// central differences of MSE, which are exact up to rounding).
    @Test func areaDownsampledLossesSeeTheAveragedImages() {
        var rng = TestRandom(seed: 13)
        let x = rng.tensor([2, 3, 8, 8], scale: 0.5), y = rng.tensor([2, 3, 8, 8], scale: 0.5)
        let loss = AreaDownsampledLoss(MSELoss(), size: 4)
        func average(_ t: Tensor) -> Tensor {
            Tensor(shape: [2, 3, 4, 4]) { d in
                for p in 0..<6 { for i in 0..<4 { for j in 0..<4 {
                    d[(p * 4 + i) * 4 + j] = (t[flat: (p * 8 + 2 * i) * 8 + 2 * j] + t[flat: (p * 8 + 2 * i) * 8 + 2 * j + 1]
                        + t[flat: (p * 8 + 2 * i + 1) * 8 + 2 * j] + t[flat: (p * 8 + 2 * i + 1) * 8 + 2 * j + 1]) / 4
                } } }
            }
        }
        let values = loss.evaluate(x, y)
        let expected = MSELoss().evaluate(average(x), average(y))
        for i in 0..<2 { #expect(abs(values[i] - expected[i]) < 1e-6) }
        var g: Tensor? = Tensor(zeros: x.shape)
        _ = loss.evaluate(x, y, gradient: &g)
        for i in [0, 17, 100, 383] {
            var plus = x, minus = x
            plus.withUnsafeMutableBufferPointer { $0[i] += 1e-2 }
            minus.withUnsafeMutableBufferPointer { $0[i] -= 1e-2 }
            let numeric = (loss.evaluate(plus, y).reduce(0, +) - loss.evaluate(minus, y).reduce(0, +)) / 2e-2
            #expect(abs(numeric - g![flat: i]) < 1e-4, "pixel \(i): \(numeric) vs \(g![flat: i])")
        }
        // At or under the size the images pass through.
        #expect(AreaDownsampledLoss(MSELoss(), size: 8).evaluate(x, y) == MSELoss().evaluate(x, y))
    }
}
