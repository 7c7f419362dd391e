/// A generator read from an NVIDIA `.pkl` or a rosinality `.pt`, under the official names and with the
/// configuration in the fixtures' layout: what `GeneratorCheckpoint` runs and `linstory convert` writes.
public struct ForeignCheckpoint: Sendable {
    public let path: String
    public let format: CheckpointFormat
    /// For `linstory info`: "NVIDIA pickle (G_ema)" or "rosinality .pt (g_ema)".
    public let formatDescription: String
    /// The official state_dict, `mapping.w_avg` included.
    public let tensors: [String: Tensor]
    public let config: CheckpointConfig
    /// `format` and `config` as the fixtures have them, `source`, and `w_avg` where it was estimated.
    public let metadata: [String: String]

    /// The sample count and seed of the w_avg estimate for files that carry no average.
    public static let wAvgSamples = 10_000
    public static let wAvgSeed: UInt32 = 0

    public static func read(path: String) throws -> ForeignCheckpoint {
        switch try CheckpointFormat.of(path: path) {
        case .nvidiaPickle: return try nvidia(path: path)
        case .torchSave: return try rosinality(path: path)
        case .safetensors: throw LinstoryError(.wrongFormat, file: path, "is neither an NVIDIA pickle nor a torch.save file")
        }
    }

    private static func nvidia(path: String) throws -> ForeignCheckpoint {
        let snapshot = try NetworkSnapshot(path: path, discriminator: false)
        let c = snapshot.config
        // The tensors decide the architecture; the kwargs must agree with them.
        let g = try GeneratorLoader.build(
            tensors: snapshot.generatorTensors, convClamp: c.convClamp, mappingLRMultiplier: c.mappingLRMultiplier, file: path)
        let found = g.config
        for (what, kwarg, actual) in [
            ("z_dim", c.zDim, found.zDim), ("w_dim", c.wDim, found.wDim), ("img_resolution", c.imgResolution, found.imgResolution),
            ("img_channels", c.imgChannels, found.imgChannels), ("mapping num_layers", c.mappingLayers, found.mappingLayers),
        ] where kwarg != actual {
            throw LinstoryError(.corrupt, file: path, "G_ema's _init_kwargs say \(what) \(kwarg), but its tensors have \(actual)")
        }
        return ForeignCheckpoint(
            path: path, format: .nvidiaPickle, formatDescription: "NVIDIA pickle (G_ema)", tensors: snapshot.generatorTensors,
            config: c, metadata: metadata(c, source: "NVIDIA pickle (G_ema)", wAvg: nil))
    }

    private static func rosinality(path: String) throws -> ForeignCheckpoint {
        let file = try RosinalityCheckpoint(path: path)
        var tensors = try RosinalityCheckpoint.officialTensors(file.stateDict, file: path)
        var layers = 0
        while tensors["mapping.fc\(layers).weight"] != nil { layers += 1 }
        let wDim = tensors["mapping.fc\(layers - 1).weight"]?.shape.first ?? 0
        var note: String?
        if let avg = file.latentAvg {
            tensors["mapping.w_avg"] = avg
            note = "from the file's latent_avg"
        } else {
            // Built once with a placeholder to run the mapping network, then averaged.
            tensors["mapping.w_avg"] = Tensor(zeros: [wDim])
            let g = try GeneratorLoader.build(tensors: tensors, convClamp: nil, file: path)
            tensors["mapping.w_avg"] = RosinalityCheckpoint.estimatedWAvg(of: g.mapping, samples: wAvgSamples, seed: wAvgSeed)
            note = "computed from \(wAvgSamples.formatted) mapping samples (z = numpy RandomState(\(wAvgSeed)).randn)"
        }
        let g = try GeneratorLoader.build(tensors: tensors, convClamp: nil, file: path)
        let c = CheckpointConfig(generator: g.config)
        return ForeignCheckpoint(
            path: path, format: .torchSave, formatDescription: "rosinality .pt (g_ema)", tensors: tensors, config: c,
            metadata: metadata(c, source: "rosinality .pt (g_ema)", wAvg: note))
    }

    private static func metadata(_ c: CheckpointConfig, source: String, wAvg: String?) -> [String: String] {
        var m = ["format": "stylegan2-ada-pytorch G_ema state_dict", "config": c.json, "source": source]
        if let wAvg { m["w_avg"] = wAvg }
        return m
    }
}

private extension Int {
    /// 10000 as "10,000".
    var formatted: String {
        let digits = Array(String(self))
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return out
    }
}
