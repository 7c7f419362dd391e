import Foundation

/// Statistics of a mapping network's W space from seeded samples, cached per model.
///
/// As NVIDIA's projector (stylegan2-ada-pytorch `projector.py`): z = `np.random.RandomState(123).randn(
/// 10000, z_dim)` (linstory's `NumpyRandomState` reproduces it), w = mapping(z) without truncation, then
///     w_avg = mean over samples of w                                   [w_dim]
///     w_std = sqrt(sum over samples of ||w - w_avg||^2 / samples)      (one scalar)
/// which the optimiser uses for its starting point, its latent noise (0.05 w_std) and its latent-distance
/// loss. From the same samples it fits the Gaussianized-W prior of Wulff & Torralba ("Improving Inversion
/// and Generation Diversity in StyleGAN using a Gaussianized Latent Space", 2020): the mean and covariance
/// of v = gaussianize(w) (see `GaussianizedWPrior`), the covariance with the unbiased 1/(samples - 1).
///
/// The statistics depend on the mapping network alone, so the cache is keyed by `mappingHash`, a hash
/// of the mapping's parameters and configuration: the synthesis network can change (or the file move)
/// without invalidating it.
public struct WStatistics: Sendable {
    /// NVIDIA's `w_avg_samples`.
    public static let defaultSamples = 10_000
    /// The seed of NVIDIA's `np.random.RandomState(123)`.
    public static let defaultSeed: UInt32 = 123
    /// The `format` metadata of the cache file.
    public static let fileFormat = "linstory W statistics v1"

    public let mappingHash: String
    public let samples: Int
    public let seed: UInt32
    /// Mean of w [w_dim].
    public let wAvg: Tensor
    /// sqrt(mean over samples of ||w - w_avg||^2).
    public let wStd: Float
    /// Mean of the Gaussianized v = gaussianize(w) [w_dim].
    public let gaussianizedMean: Tensor
    /// Covariance of v [w_dim, w_dim].
    public let gaussianizedCovariance: Tensor

    public var wDim: Int { wAvg.count }

    public init(
        mappingHash: String, samples: Int, seed: UInt32, wAvg: Tensor, wStd: Float, gaussianizedMean: Tensor,
        gaussianizedCovariance: Tensor
    ) {
        let d = wAvg.count
        precondition(wAvg.shape == [d] && gaussianizedMean.shape == [d], "w_avg and the Gaussianized mean must be [w_dim]")
        precondition(gaussianizedCovariance.shape == [d, d], "the covariance must be [w_dim, w_dim]")
        self.mappingHash = mappingHash
        self.samples = samples
        self.seed = seed
        self.wAvg = wAvg
        self.wStd = wStd
        self.gaussianizedMean = gaussianizedMean
        self.gaussianizedCovariance = gaussianizedCovariance
    }

    // MARK: - Computing

    /// Samples the mapping network and computes every statistic (about a second for NVIDIA's 8-layer,
    /// 512-wide mapping on two cores).
    public static func compute(
        mapping: MappingNetwork, samples: Int = defaultSamples, seed: UInt32 = defaultSeed
    ) -> WStatistics {
        precondition(samples >= 2, "W statistics need at least two samples")
        let d = mapping.wDim, zDim = mapping.zDim, numWs = mapping.numWs
        var random = NumpyRandomState(seed: seed)
        // w samples [samples, w_dim], in batches to bound the broadcast [batch, num_ws, w_dim] output.
        var ws = Tensor(zeros: [samples, d])
        let batch = 500
        var start = 0
        while start < samples {
            let rows = min(batch, samples - start)
            let z = random.latents(rows, zDim: zDim)
            let out = mapping(z)
            out.withUnsafeBufferPointer { src in
                ws.withUnsafeMutableBufferPointer { dst in
                    for r in 0..<rows {
                        let from = r * numWs * d, to = (start + r) * d
                        for j in 0..<d { dst[to + j] = src[from + j] }
                    }
                }
            }
            start += rows
        }

        var wMean = [Double](repeating: 0, count: d)
        var vMean = [Double](repeating: 0, count: d)
        ws.withUnsafeBufferPointer { w in
            for r in 0..<samples {
                for j in 0..<d {
                    let value = w[r * d + j]
                    wMean[j] += Double(value)
                    vMean[j] += Double(GaussianizedWPrior.gaussianize(value))
                }
            }
        }
        for j in 0..<d {
            wMean[j] /= Double(samples)
            vMean[j] /= Double(samples)
        }
        var squares: Double = 0
        var centred = Tensor(zeros: [samples, d])  // v - mean(v)
        ws.withUnsafeBufferPointer { w in
            centred.withUnsafeMutableBufferPointer { v in
                for r in 0..<samples {
                    for j in 0..<d {
                        let value = w[r * d + j]
                        let dw = Double(value) - wMean[j]
                        squares += dw * dw
                        v[r * d + j] = Float(Double(GaussianizedWPrior.gaussianize(value)) - vMean[j])
                    }
                }
            }
        }
        var covariance = Tensor(zeros: [d, d])
        centred.withUnsafeBufferPointer { v in
            covariance.withUnsafeMutableBufferPointer { c in
                BLAS.sgemm(
                    transA: true, m: d, n: d, k: samples, alpha: 1 / Float(samples - 1),
                    a: v.baseAddress!, lda: d, b: v.baseAddress!, ldb: d, c: c.baseAddress!, ldc: d)
                // Exactly symmetric, whatever order the kernel summed in.
                for i in 0..<d {
                    for j in (i + 1)..<max(d, i + 1) {
                        let s = 0.5 * (c[i * d + j] + c[j * d + i])
                        c[i * d + j] = s
                        c[j * d + i] = s
                    }
                }
            }
        }
        return WStatistics(
            mappingHash: mappingHash(mapping), samples: samples, seed: seed,
            wAvg: Tensor(shape: [d], values: wMean.map { Float($0) }),
            wStd: Float((squares / Double(samples)).squareRoot()),
            gaussianizedMean: Tensor(shape: [d], values: vMean.map { Float($0) }),
            gaussianizedCovariance: covariance)
    }

    /// A 64-bit FNV-1a hash (16 hex digits) of everything that determines mapping(z): the layer shapes,
    /// gains, activations and every weight and bias. The checkpoint's `w_avg` buffer (a training EMA,
    /// used only for truncation) is not part of it.
    public static func mappingHash(_ mapping: MappingNetwork) -> String {
        var hash = FNV1a()
        func word(_ v: UInt64) { hash.word64(v) }
        hash.bytes("linstory mapping v1".utf8)
        word(UInt64(mapping.zDim)); word(UInt64(mapping.wDim)); word(UInt64(mapping.numWs))
        word(UInt64(mapping.layers.count))
        for layer in mapping.layers {
            word(UInt64(layer.inFeatures)); word(UInt64(layer.outFeatures))
            word(UInt64(layer.weightGain.bitPattern)); word(UInt64(layer.biasGain.bitPattern))
            word(layer.lrelu ? 1 : 0)
            hash.floats(layer.weight)
            hash.floats(layer.bias)
        }
        return hash.hex
    }

    // MARK: - Cache

    /// `FOLDER/w-stats-HASH.safetensors`: one file per mapping network in a shared cache folder.
    public static func cachePath(folder: String, mapping: MappingNetwork) -> String {
        (folder.hasSuffix("/") ? folder : folder + "/") + "w-stats-\(mappingHash(mapping)).safetensors"
    }

    /// The statistics from `cachePath` when that file holds them for this mapping network (same hash,
    /// sample count and seed); otherwise computes them and writes the file (atomically, creating its
    /// folder). A missing, unreadable or stale cache is recomputed, not an error; failing to write is.
    public static func load(
        orComputeFor mapping: MappingNetwork, cachePath: String, samples: Int = defaultSamples,
        seed: UInt32 = defaultSeed
    ) throws -> WStatistics {
        let hash = mappingHash(mapping)
        if FileManager.default.fileExists(atPath: cachePath), let cached = try? read(path: cachePath),
           cached.mappingHash == hash, cached.samples == samples, cached.seed == seed, cached.wDim == mapping.wDim {
            return cached
        }
        let statistics = compute(mapping: mapping, samples: samples, seed: seed)
        let folder = (cachePath as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw LinstoryError(.unreadable, file: folder, "cannot create the W statistics cache folder: \(error.localizedDescription)")
            }
        }
        try statistics.write(to: cachePath)
        return statistics
    }

    /// Reads a file written by `write(to:)`, checking its format, shapes and values.
    public static func read(path: String) throws -> WStatistics {
        let file = try SafeTensorsFile(path: path)
        guard file.metadata["format"] == fileFormat else {
            throw LinstoryError(.wrongFormat, file: path, "not a linstory W statistics file (format \"\(file.metadata["format"] ?? "")\")")
        }
        guard let hash = file.metadata["mapping_hash"], let samples = file.metadata["samples"].flatMap({ Int($0) }),
              let seed = file.metadata["seed"].flatMap({ UInt32($0) })
        else { throw LinstoryError(.corrupt, file: path, "W statistics metadata lacks mapping_hash, samples or seed") }
        try file.validateAllFinite()
        let wAvg = try file.tensor("w_avg")
        let wStd = try file.tensor("w_std")
        let mean = try file.tensor("gaussianized_mean")
        let covariance = try file.tensor("gaussianized_covariance")
        let d = wAvg.count
        guard wAvg.shape == [d], wStd.shape == [1], mean.shape == [d], covariance.shape == [d, d] else {
            throw LinstoryError(
                .mismatch, file: path,
                "W statistics have inconsistent shapes: w_avg \(wAvg.shape), w_std \(wStd.shape), "
                    + "gaussianized_mean \(mean.shape), gaussianized_covariance \(covariance.shape)")
        }
        return WStatistics(
            mappingHash: hash, samples: samples, seed: seed, wAvg: wAvg, wStd: wStd[flat: 0], gaussianizedMean: mean,
            gaussianizedCovariance: covariance)
    }

    /// Writes the statistics as safetensors (`w_avg`, `w_std` [1], `gaussianized_mean`,
    /// `gaussianized_covariance`), the key and provenance in the metadata.
    public func write(to path: String) throws {
        try SafeTensorsWriter.write(
            [
                ("w_avg", wAvg), ("w_std", Tensor(shape: [1], values: [wStd])), ("gaussianized_mean", gaussianizedMean),
                ("gaussianized_covariance", gaussianizedCovariance),
            ],
            metadata: [
                "format": Self.fileFormat, "mapping_hash": mappingHash, "samples": String(samples), "seed": String(seed),
                "z": "numpy RandomState(seed).randn(samples, z_dim), as stylegan2-ada-pytorch projector.py",
                "gaussianize": "v = w if w >= 0 else 5 w (the mapping's last lrelu undone; sqrt(2) gain kept)",
            ], to: path)
    }
}
