/// Generators with random weights, for benchmarks and tests of shapes no checkpoint has.
extension Generator {
    /// The bundled model's shape (64 px; channels 128 up to 32 px, then 64; w_dim 256).
    public static let default64Shape = GeneratorConfig(
        zDim: 256, wDim: 256, imgResolution: 64, imgChannels: 3, mappingLayers: 4,
        mappingFeatures: [256, 256, 256, 256, 256], blockChannels: [128, 128, 128, 128, 64], convClamp: 256,
        mappingLRMultiplier: 0.01)

    /// The official 256x256 configuration (channels 512 up to 32 px, then 256, 128, 64; w_dim 512).
    public static let paper256Shape = GeneratorConfig(
        zDim: 512, wDim: 512, imgResolution: 256, imgChannels: 3, mappingLayers: 8,
        mappingFeatures: Array(repeating: 512, count: 9), blockChannels: [512, 512, 512, 512, 256, 128, 64],
        convClamp: 256, mappingLRMultiplier: 0.01)

    /// 256 px with every tensor a frame brings (w_dim 512, 14 ws, noise maps up to 256x256) but narrow
    /// channels, so that a benchmark of memory over thousands of frames runs in minutes, not days.
    public static let narrow256Shape = GeneratorConfig(
        zDim: 512, wDim: 512, imgResolution: 256, imgChannels: 3, mappingLayers: 8,
        mappingFeatures: Array(repeating: 512, count: 9), blockChannels: [64, 64, 64, 32, 16, 8, 8],
        convClamp: 256, mappingLRMultiplier: 0.01)

    /// A generator of `config`'s shape with Gaussian weights (as NVIDIA initialises them) from `seed`.
    public static func random(_ config: GeneratorConfig, seed: UInt64 = 0) throws -> Generator {
        try GeneratorLoader.build(tensors: randomTensors(config, seed: seed), convClamp: config.convClamp, mappingLRMultiplier: config.mappingLRMultiplier, file: "random generator")
    }

    /// `random`'s weights under their official names (what a safetensors checkpoint holds).
    public static func randomTensors(_ config: GeneratorConfig, seed: UInt64 = 0) -> [String: Tensor] {
        var rng = GaussianNoise(seed: seed)
        func randn(_ shape: [Int], scale: Float = 1) -> Tensor {
            Tensor(shape: shape) { p in for i in 0..<p.count { p[i] = rng.next() * scale } }
        }
        let filter = Tensor(shape: [4, 4], values: [1, 3, 3, 1].flatMap { a in [1, 3, 3, 1].map { b in Float(a * b) / 64 } })
        var t: [String: Tensor] = [:]
        for i in 0..<config.mappingLayers {
            t["mapping.fc\(i).weight"] = randn([config.mappingFeatures[i + 1], config.mappingFeatures[i]], scale: 1 / config.mappingLRMultiplier)
            t["mapping.fc\(i).bias"] = Tensor(zeros: [config.mappingFeatures[i + 1]])
        }
        t["mapping.w_avg"] = randn([config.wDim], scale: 0.1)
        for (bi, c) in config.blockChannels.enumerated() {
            let res = 4 << bi
            let b = "synthesis.b\(res)"
            t["\(b).resample_filter"] = filter
            if bi == 0 { t["\(b).const"] = randn([c, 4, 4]) }
            for conv in bi == 0 ? ["conv1"] : ["conv0", "conv1"] {
                let inC = conv == "conv0" ? config.blockChannels[bi - 1] : c
                t["\(b).\(conv).weight"] = randn([c, inC, 3, 3])
                t["\(b).\(conv).bias"] = Tensor(zeros: [c])
                t["\(b).\(conv).noise_strength"] = Tensor(shape: [], values: [0.1])
                t["\(b).\(conv).noise_const"] = randn([res, res])
                t["\(b).\(conv).resample_filter"] = filter
                t["\(b).\(conv).affine.weight"] = randn([inC, config.wDim])
                t["\(b).\(conv).affine.bias"] = Tensor(shape: [inC], repeating: 1)
            }
            t["\(b).torgb.weight"] = randn([config.imgChannels, c, 1, 1])
            t["\(b).torgb.bias"] = Tensor(zeros: [config.imgChannels])
            t["\(b).torgb.affine.weight"] = randn([c, config.wDim])
            t["\(b).torgb.affine.bias"] = Tensor(shape: [c], repeating: 1)
        }
        return t
    }
}

extension GeneratorConfig {
    /// Synthesis FLOPs per image: 2 x multiply-adds of every convolution at its input grid
    /// (a transposed up-sampling conv counts H_in x W_in x C_in x C_out x 9).
    public var synthesisFLOPs: Double {
        var total = 0.0
        for (bi, c) in blockChannels.enumerated() {
            let res = Double(4 << bi)
            if bi > 0 { total += 2 * (res / 2) * (res / 2) * Double(blockChannels[bi - 1]) * Double(c) * 9 }
            total += 2 * res * res * Double(c) * Double(c) * 9
            total += 2 * res * res * Double(c) * Double(imgChannels)
        }
        return total
    }
}
