import Engine
import Foundation
import Testing
import TestSupport

/// W statistics (w_avg, w_std, the Gaussianized fit), their cache, and the Gaussianized-W prior.
@Suite struct WStatisticsTests {
    static func scratchFolder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wstats-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// w samples [samples][w_dim] drawn as projector.py draws them, through the public mapping API.
    static func samples(_ mapping: MappingNetwork, count: Int, seed: UInt32) -> [[Double]] {
        var random = NumpyRandomState(seed: seed)
        let z = Tensor(shape: [count, mapping.zDim], values: random.randn(count * mapping.zDim).map { Float($0) })
        let ws = mapping(z).scalars
        let d = mapping.wDim, stride = mapping.numWs * d
        return (0..<count).map { s in (0..<d).map { Double(ws[s * stride + $0]) } }
    }

    @Test func statisticsMatchDirectComputation() throws {
        let mapping = try Fixtures.generator("tiny32").mapping
        let count = 600
        let stats = WStatistics.compute(mapping: mapping, samples: count, seed: 123)
        let w = Self.samples(mapping, count: count, seed: 123)
        let d = mapping.wDim
        let avg = (0..<d).map { j in w.reduce(0) { $0 + $1[j] } / Double(count) }
        // NVIDIA: w_std = (np.sum((w_samples - w_avg) ** 2) / w_avg_samples) ** 0.5
        let std = (w.reduce(0) { acc, row in acc + zip(row, avg).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } } / Double(count))
            .squareRoot()
        #expect(stats.samples == count && stats.seed == 123 && stats.wDim == d)
        let avgError = zip(stats.wAvg.scalars, avg).map { abs(Double($0) - $1) }.max()!
        // Float64 means of float32 w (|w_avg| < 2 here): rounding w_avg to float32 costs <= 2^-24 * 2 =
        // 1.2e-7, the batch split (500 + 100 rows vs 600; K = 64 mapping sums) ~1e-7 / sqrt(600) more;
        // measured 5e-8 with either OpenBLAS kernel. 1e-6 absolute holds for |w_avg| < 16.
        #expect(avgError < 1e-6, "w_avg off by \(avgError)")
        // Float64 sums both, then one float32 rounding of w_std: ~6e-8 relative (measured 8e-9).
        #expect(abs(Double(stats.wStd) - std) < 1e-6 * std, "w_std \(stats.wStd), direct \(std)")

        let v = w.map { row in row.map { $0 >= 0 ? $0 : 5 * $0 } }
        let mean = (0..<d).map { j in v.reduce(0) { $0 + $1[j] } / Double(count) }
        let meanError = zip(stats.gaussianizedMean.scalars, mean).map { abs(Double($0) - $1) }.max()!
        #expect(meanError < 1e-6, "Gaussianized mean off by \(meanError)")
        let covariance = stats.gaussianizedCovariance.scalars
        var worst = 0.0, largest = 0.0
        for a in 0..<d {
            for b in 0..<d {
                let direct = v.reduce(0) { $0 + ($1[a] - mean[a]) * ($1[b] - mean[b]) } / Double(count - 1)
                worst = max(worst, abs(Double(covariance[a * d + b]) - direct))
                largest = max(largest, abs(direct))
                #expect(covariance[a * d + b] == covariance[b * d + a])
            }
        }
        // sgemm over K = 600 samples of centred float32 v: ~sqrt(600) * 2^-24 = 1.5e-6 of the terms typical
        // (600 * 2^-24 = 3.6e-5 worst case, needs every rounding to agree); measured 3-4e-7 of the largest
        // entry with either OpenBLAS kernel. 1e-5 leaves 25x over measured, 7x over the typical bound.
        #expect(worst < 1e-5 * largest, "covariance off by \(worst) (largest entry \(largest))")
    }

    @Test func cacheIsReusedAndKeyedByModel() throws {
        let tiny = try Fixtures.generator("tiny32").mapping
        let small = try Fixtures.generator("small64").mapping
        #expect(WStatistics.mappingHash(tiny) == WStatistics.mappingHash(tiny))
        #expect(WStatistics.mappingHash(tiny) != WStatistics.mappingHash(small))
        #expect(WStatistics.mappingHash(tiny).count == 16)
        var changed = tiny
        changed.layers[0].bias[flat: 0] += 1e-3
        #expect(WStatistics.mappingHash(changed) != WStatistics.mappingHash(tiny))

        let folder = try Self.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = WStatistics.cachePath(folder: folder + "/nested", mapping: tiny)
        #expect(path.hasSuffix("/nested/w-stats-\(WStatistics.mappingHash(tiny)).safetensors"))

        let first = try WStatistics.load(orComputeFor: tiny, cachePath: path, samples: 300)
        let bytes = try AtomicFile.read(path)
        let file = try SafeTensorsFile(path: path)
        #expect(file.metadata["mapping_hash"] == WStatistics.mappingHash(tiny))
        #expect(file.names == ["gaussianized_covariance", "gaussianized_mean", "w_avg", "w_std"])
        let second = try WStatistics.load(orComputeFor: tiny, cachePath: path, samples: 300)
        #expect(try AtomicFile.read(path) == bytes)  // read, not rewritten
        #expect(second.wAvg == first.wAvg && second.wStd == first.wStd)
        #expect(second.gaussianizedCovariance == first.gaussianizedCovariance && second.mappingHash == first.mappingHash)

        // Another model, or other sampling settings, at the same path: recomputed and replaced.
        let other = try WStatistics.load(orComputeFor: small, cachePath: path, samples: 300)
        #expect(other.mappingHash == WStatistics.mappingHash(small) && other.wDim == small.wDim)
        #expect(try WStatistics.read(path: path).mappingHash == other.mappingHash)
        let reseeded = try WStatistics.load(orComputeFor: small, cachePath: path, samples: 300, seed: 7)
        #expect(reseeded.seed == 7 && reseeded.wAvg != other.wAvg)

        // A damaged cache is recomputed, not an error.
        try AtomicFile.write([UInt8](repeating: 0x41, count: 40), to: path)
        let repaired = try WStatistics.load(orComputeFor: tiny, cachePath: path, samples: 300)
        #expect(repaired.wAvg == first.wAvg)
        let missing = #expect(throws: LinstoryError.self) { try WStatistics.read(path: folder + "/missing.safetensors") }
        #expect(missing?.kind == .notFound)
    }

    // MARK: - Gaussianized-W prior

    /// A random symmetric positive definite matrix A A^T / d + 0.1 I.
    static func covariance(_ d: Int, seed: UInt64) -> [Double] {
        var random = GaussianNoise(seed: seed)
        let a = (0..<(d * d)).map { _ in Double(random.next()) }
        var c = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in 0..<d {
                c[i * d + j] = (0..<d).reduce(0) { $0 + a[i * d + $1] * a[j * d + $1] } / Double(d) + (i == j ? 0.1 : 0)
            }
        }
        return c
    }

    @Test func gaussianizeUndoesTheLeakySlope() {
        #expect(GaussianizedWPrior.gaussianize(0.7) == 0.7)
        #expect(GaussianizedWPrior.gaussianize(0) == 0)
        #expect(GaussianizedWPrior.gaussianize(-0.2) == -1)
        #expect(GaussianizedWPrior.ungaussianize(-1) == -0.2 && GaussianizedWPrior.ungaussianize(0.7) == 0.7)
        // NVIDIA's output sqrt(2) lrelu_0.2(a) becomes sqrt(2) a on both sides.
        for a: Float in [-1.3, -0.01, 0.4, 2] {
            let w = Float(2).squareRoot() * (a > 0 ? a : 0.2 * a)
            // 3-4 float32 roundings of values <= 2.9: <= 7e-7.
            #expect(abs(GaussianizedWPrior.gaussianize(w) - Float(2).squareRoot() * a) < 1e-6)
        }
    }

    @Test(arguments: [[3, 6], [2, 4, 6]])
    func mahalanobisValueAndGradient(shape: [Int]) throws {
        let d = 6
        let covariance = Self.covariance(d, seed: 9)
        let mean = [0.3, -0.2, 0.1, 0.0, 0.5, -0.4]
        let prior = try GaussianizedWPrior(
            mean: Tensor(shape: [d], values: mean.map { Float($0) }),
            covariance: Tensor(shape: [d, d], values: covariance.map { Float($0) }), ridge: 1e-6)
        var random = GaussianNoise(seed: 17)
        // Keep coordinates away from the kink at 0, where the slope jumps from 1 to 5.
        let ws = Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in
            let v = random.next()
            return v + (v >= 0 ? 0.05 : -0.05)
        })
        var g: Tensor? = Tensor(zeros: shape)
        let values = prior.evaluate(ws, accumulatingGradient: &g, scale: 1)
        let x = ws.scalars.map { Double($0) }
        let layers = shape.count == 3 ? shape[1] : 1
        let n = shape[0]
        func reference(_ v: [Double]) -> [Double] {
            (0..<n).map { s in
                (0..<layers).reduce(0.0) { acc, l in
                    let row = Array(v[((s * layers + l) * d)..<((s * layers + l + 1) * d)])
                    return acc + ReferenceLosses.mahalanobisSquared(row, mean: mean, covariance: covariance, ridge: 1e-6)
                } / Double(layers)
            }
        }
        let expected = reference(x)
        // d = 6: float32 whitening (from a float64 Cholesky) and sums of 6: a few 2^-24 times the whitening's
        // condition (~10 here): ~1e-6 (measured 2.2e-7). The float64 references are exact to ~1e-10.
        for (a, b) in zip(values, expected) { #expect(abs(Double(a) - b) <= 1e-5 * b, "ours \(a), reference \(b)") }
        let grad = g!.scalars.map { Double($0) }
        let largest = grad.map(abs).max()!
        let f = { (v: [Double]) in reference(v).reduce(0, +) }
        for index in 0..<x.count {
            let fd = ReferenceLosses.centralDifference(f, at: x, index: index)
            // The float32 gradient 2 W^T W (v - mu) slope: ~1e-6 relative as above (measured 1.1e-7); 1e-4.
            #expect(abs(fd - grad[index]) <= 1e-4 * largest, "at \(index): fd \(fd), analytic \(grad[index])")
        }
    }

    /// The distance ignores a common scale of v, mu and Sigma^(1/2): keeping or removing the mapping's
    /// sqrt(2) gain cannot change the prior.
    @Test func scaleOfTheFitDoesNotMatter() throws {
        let d = 5
        let covariance = Self.covariance(d, seed: 4)
        let mean: [Float] = [0.1, 0.2, -0.3, 0.05, 0]
        let c: Float = 1 / Float(2).squareRoot()
        let a = try GaussianizedWPrior(
            mean: Tensor(shape: [d], values: mean), covariance: Tensor(shape: [d, d], values: covariance.map { Float($0) }))
        let b = try GaussianizedWPrior(
            mean: Tensor(shape: [d], values: mean.map { $0 * c }),
            covariance: Tensor(shape: [d, d], values: covariance.map { Float($0) * c * c }))
        let ws = LossFixtures.noise(seed: 8, shape: [4, d])
        let scaled = Tensor(shape: ws.shape, values: ws.scalars.map { $0 * c })
        // Exact in reals; float32 rounding of the scaled inputs and the two whitenings: ~1e-6 (measured 1.1e-7).
        for (x, y) in zip(a.evaluate(ws), b.evaluate(scaled)) { #expect(abs(x - y) <= 1e-5 * x) }
    }

    @Test func priorFromMappingSamplesIsCalibrated() throws {
        let mapping = try Fixtures.generator("tiny32").mapping
        let stats = WStatistics.compute(mapping: mapping, samples: 4000)
        let prior = try GaussianizedWPrior(statistics: stats)
        // Fresh samples (another seed): the squared distance averages about w_dim (chi-square).
        var random = NumpyRandomState(seed: 99)
        let z = Tensor(shape: [500, mapping.zDim], values: random.randn(500 * mapping.zDim).map { Float($0) })
        let ws = mapping(z)  // [500, num_ws, w_dim], W+ with equal rows
        let values = prior.evaluate(ws)
        let average = values.reduce(0, +) / Float(values.count)
        // E d^2 = w_dim for any distribution whose covariance the fit matches; from 4,000 samples the fit
        // biases it by ~(w_dim + 1) / 4000 = 1.6%, and 500 fresh samples scatter it by sqrt(2 / 500 / 64)
        // ~ 0.8% (chi-square): 10% is ~10 sigma (measured +2.0%); a lost sqrt(2) gain would be +-50%.
        #expect(abs(average / Float(mapping.wDim) - 1) < 0.1, "mean d^2 \(average) for w_dim \(mapping.wDim)")
        // The w whose Gaussianized v is the fitted mean scores 0; a latent 3 w_std away scores far above typical.
        // 0 in exact arithmetic; float32 (v / 5 * 5 round trips) leaves ~1e-12 (measured 5e-13), and a typical d^2 is 64.
        #expect(prior.evaluate(prior.mode.reshaped([1, mapping.wDim]))[0] < 1e-3)
        let roundTrip = zip(prior.mode.scalars.map(GaussianizedWPrior.gaussianize), stats.gaussianizedMean.scalars)
        #expect(roundTrip.allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) })  // v / 5 * 5: <= 2 roundings, 1.2e-7
        let far = prior.evaluate(Tensor(shape: [1, mapping.wDim], values: stats.wAvg.scalars.map { $0 + 3 * stats.wStd }))[0]
        #expect(far > 10 * average, "far \(far), typical \(average)")
    }

    @Test func singularCovarianceIsAnError() {
        let error = #expect(throws: LinstoryError.self) {
            try GaussianizedWPrior(
                mean: Tensor(zeros: [3]), covariance: Tensor(shape: [3, 3], values: [1, 1, 0, 1, 1, 0, 0, 0, 1]), ridge: 0)
        }
        #expect(error?.kind == .invalidValue)
    }
}
