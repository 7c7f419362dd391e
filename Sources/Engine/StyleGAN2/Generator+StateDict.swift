// A generator back into NVIDIA's state_dict: the tensors `GeneratorLoader.build` reads, under their
// official names, and a standalone safetensors checkpoint of them (what a tuned scene's generator is
// exported as). The inverse of `GeneratorLoader.build`: build(stateTensors()) renders the same bits.

extension Generator {
    /// Every tensor of the generator under NVIDIA's state_dict names, exactly the set
    /// `GeneratorLoader.build(tensors:convClamp:mappingLRMultiplier:file:)` reads: the parameters
    /// (mapping.fc*, synthesis.b*.const, conv/torgb weight, bias, noise_strength, affine.*) and the
    /// buffers (mapping.w_avg, synthesis.b*.resample_filter, synthesis.b*.conv*.resample_filter,
    /// noise_const; and linstory's noise_offset where a tuned scene set one). Weights are stored raw, as NVIDIA stores them (the equalized-lr gains are applied
    /// at run time, so nothing is rescaled here).
    public func stateTensors() -> [String: Tensor] {
        var t: [String: Tensor] = [:]
        for (i, fc) in mapping.layers.enumerated() {
            t["mapping.fc\(i).weight"] = fc.weight  // [out, in]
            t["mapping.fc\(i).bias"] = fc.bias  // [out]
        }
        t["mapping.w_avg"] = mapping.wAvg  // [w_dim]
        for block in synthesis.blocks {
            let prefix = "synthesis.b\(block.resolution)"
            t["\(prefix).resample_filter"] = Self.resampleFilter(taps: block.imageUpTaps)  // [4, 4]
            if let const = block.const { t["\(prefix).const"] = const }  // [C, 4, 4]
            for layer in [block.conv0, block.conv1].compactMap({ $0 }) {
                t["\(layer.name).weight"] = layer.weight  // [O, I, 3, 3]
                t["\(layer.name).bias"] = layer.bias  // [O]
                t["\(layer.name).noise_strength"] = layer.noiseStrength  // []
                t[layer.noiseName] = layer.noiseConst  // [R, R]
                // Not NVIDIA's: a tuned scene's noise offset (`SynthesisLayer.noiseOffset`), which the loader reads back.
                if let offset = layer.noiseOffset { t[SynthesisLayer.noiseOffsetName(layer: layer.name)] = offset }  // [R, R]
                t["\(layer.name).resample_filter"] = Self.resampleFilter(taps: layer.upTaps)  // [4, 4]
                t["\(layer.name).affine.weight"] = layer.affine.weight  // [I, w_dim]
                t["\(layer.name).affine.bias"] = layer.affine.bias  // [I]
            }
            let rgb = block.torgb
            t["\(rgb.name).weight"] = rgb.weight  // [C, I, 1, 1]
            t["\(rgb.name).bias"] = rgb.bias  // [C]
            t["\(rgb.name).affine.weight"] = rgb.affine.weight  // [I, w_dim]
            t["\(rgb.name).affine.bias"] = rgb.affine.bias  // [I]
        }
        return t
    }

    /// The bytes of every tensor `stateTensors` gives, as F32: the model's size whatever file it came in.
    public var parameterBytes: Int { stateTensors().values.reduce(0) { $0 + 4 * $1.count } }

    /// The safetensors metadata `GeneratorCheckpoint.load` reads back: `config` as `linstory convert`
    /// writes it (conv_clamp always, mapping_lr_multiplier when it is not NVIDIA's 0.01), plus `extra`.
    public func checkpointMetadata(_ extra: [String: String] = [:]) -> [String: String] {
        var metadata = extra
        metadata["config"] = CheckpointConfig(generator: config).json
        return metadata
    }

    /// Writes the generator as a standalone safetensors checkpoint (atomically) that
    /// `GeneratorCheckpoint.load` reads as this generator: same tensors, conv_clamp and lr multiplier.
    public func write(to path: String, metadata extra: [String: String] = [:]) throws {
        let tensors = stateTensors().sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        try SafeTensorsWriter.write(tensors, metadata: checkpointMetadata(extra), to: path)
    }

    /// NVIDIA's stored 2D filter outer(a, a) (a normalised to sum 1) from the taps the loader keeps:
    /// `GeneratorLoader.separableTaps` stores a's entries flipped and times 2 (the up-sampling gain per
    /// axis). For NVIDIA's [1, 3, 3, 1] every value is a dyadic fraction, so the filter and the taps
    /// the loader recomputes from it are exact: the same bits. (An arbitrary separable filter's row
    /// sums can round differently in the last bit; no official checkpoint has one.)
    static func resampleFilter(taps: [Float]) -> Tensor {  // [4, 4]
        let a = taps.reversed().map { $0 / 2 }
        return Tensor(shape: [a.count, a.count], values: a.flatMap { r in a.map { c in r * c } })
    }
}
