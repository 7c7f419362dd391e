import Engine

/// Tiny random StyleGAN2 generators under the official state_dict names, for proof tests that
/// compare the engine with `ReferenceStyleGAN2` (and finite differences of it).
public struct TinyGeneratorSpec: Sendable, CustomStringConvertible {
    public var zDim: Int
    public var wDim: Int
    public var mappingLayers: Int
    /// Output channels of b4, b8, ...
    public var channels: [Int]
    public var imgChannels: Int
    /// Per-axis taps a of the separable resample filters outer(a, a) (Σ a = 1 after normalising).
    /// NVIDIA's default is [1, 3, 3, 1]; an asymmetric one makes a wrongly flipped filter visible.
    public var filterTaps: [Double]
    /// Taps for the block-level (skip image) filter; nil for the same as the layers'.
    public var imageFilterTaps: [Double]?

    public init(
        zDim: Int = 3, wDim: Int = 4, mappingLayers: Int = 2, channels: [Int] = [3, 2], imgChannels: Int = 3,
        filterTaps: [Double] = [1, 3, 3, 1], imageFilterTaps: [Double]? = nil
    ) {
        self.zDim = zDim
        self.wDim = wDim
        self.mappingLayers = mappingLayers
        self.channels = channels
        self.imgChannels = imgChannels
        self.filterTaps = filterTaps
        self.imageFilterTaps = imageFilterTaps
    }

    public var resolution: Int { 4 << (channels.count - 1) }
    public var numWs: Int { 2 * channels.count }

    public var description: String {
        "z\(zDim) w\(wDim) map\(mappingLayers) ch\(channels) img\(imgChannels) f\(filterTaps.map { Int($0) })"
            + (imageFilterTaps.map { " img-f\($0.map { Int($0) })" } ?? "")
    }

    /// The 4x4 filter NVIDIA's setup_filter stores: outer(a, a) / (Σ a)².
    static func filter(_ a: [Double]) -> Tensor {
        let s = a.reduce(0, +)
        let n = a.map { $0 / s }
        return Tensor(shape: [4, 4], values: (0..<16).map { Float(n[$0 / 4] * n[$0 % 4]) })
    }

    /// Random tensors for every official name. Scales keep every layer's activations O(1):
    /// mapping weights are randn / lr as NVIDIA initialises them, affine biases 1 + small, and
    /// noise strengths non-zero so that the noise path is exercised.
    public func tensors(seed: UInt64) -> [String: Tensor] {
        var rng = TestRandom(seed: seed)
        var t: [String: Tensor] = [:]
        let features = [zDim] + Array(repeating: wDim, count: mappingLayers)  // [z_dim, w_dim, ..., w_dim]
        for l in 0..<mappingLayers {
            t["mapping.fc\(l).weight"] = rng.tensor([features[l + 1], features[l]], scale: 100)  // randn / 0.01
            t["mapping.fc\(l).bias"] = rng.tensor([features[l + 1]], scale: 50)  // * lr 0.01 at run time
        }
        t["mapping.w_avg"] = rng.tensor([wDim])
        let layerFilter = Self.filter(filterTaps)
        let imageFilter = Self.filter(imageFilterTaps ?? filterTaps)
        for (bi, c) in channels.enumerated() {
            let res = 4 << bi
            let p = "synthesis.b\(res)"
            t[p + ".resample_filter"] = imageFilter
            if bi == 0 { t[p + ".const"] = rng.tensor([c, 4, 4]) }
            var layers: [(String, Int)] = []
            if bi > 0 { layers.append(("conv0", channels[bi - 1])) }
            layers.append(("conv1", c))
            for (kind, inC) in layers {
                let q = "\(p).\(kind)"
                t[q + ".weight"] = rng.tensor([c, inC, 3, 3])
                t[q + ".bias"] = rng.tensor([c], scale: 0.3)
                t[q + ".noise_strength"] = Tensor(shape: [], values: [0.2 + 0.3 * abs(rng.normal())])
                t[q + ".noise_const"] = rng.tensor([res, res])
                t[q + ".resample_filter"] = layerFilter
                t[q + ".affine.weight"] = rng.tensor([inC, wDim])
                t[q + ".affine.bias"] = rng.tensor([inC], scale: 0.2, offset: 1)
            }
            t[p + ".torgb.weight"] = rng.tensor([imgChannels, c, 1, 1])
            t[p + ".torgb.bias"] = rng.tensor([imgChannels], scale: 0.3)
            t[p + ".torgb.affine.weight"] = rng.tensor([c, wDim])
            t[p + ".torgb.affine.bias"] = rng.tensor([c], scale: 0.2, offset: 1)
        }
        return t
    }

    /// The engine's generator and the float64 reference built from the same tensors.
    public func build(seed: UInt64, convClamp: Float? = nil) throws -> (engine: Generator, reference: ReferenceStyleGAN2) {
        let t = tensors(seed: seed)
        let g = try GeneratorLoader.build(tensors: t, convClamp: convClamp, file: "tiny(\(self), seed \(seed))")
        return (g, ReferenceStyleGAN2(tensors: t, convClamp: convClamp))
    }
}

/// Inputs for one tiny run: random ws, noise maps and upstream gradient.
public enum TinyInputs {
    /// Explicit noise maps per conv layer, alternating shared [1, R, R] and per-sample [N, R, R]
    /// (starting with `firstShared`), for both the engine and the reference.
    public static func explicitNoise(
        resolutions: [Int], batch n: Int, firstShared: Bool, rng: inout TestRandom
    ) -> (engine: NoiseMode, reference: ReferenceNoise) {
        var maps: [Tensor] = []
        for (i, r) in resolutions.enumerated() {
            let shared = (i % 2 == 0) == firstShared
            maps.append(rng.tensor([shared ? 1 : n, r, r]))
        }
        return (.explicit(maps), .explicit(maps.map(\.doubles)))
    }
}
