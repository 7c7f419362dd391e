/// Builds a `Generator` from tensors with the official `state_dict` names, checking every name and
/// shape against what the tensors themselves imply. Nothing about the architecture is assumed
/// beyond NVIDIA's naming: depth, widths and resolution all come from the shapes.
public enum GeneratorLoader {
    /// `file` names the source in errors; `convClamp` comes from the checkpoint's recorded configuration.
    public static func build(
        tensors: [String: Tensor], convClamp: Float?, mappingLRMultiplier: Float = 0.01, file: String
    ) throws -> Generator {
        var used = Set<String>()
        func take(_ name: String, _ shape: [Int]) throws -> Tensor {
            guard let t = tensors[name] else { throw LinstoryError(.notFound, file: file, "missing tensor '\(name)'") }
            guard t.shape == shape else {
                throw LinstoryError(.mismatch, file: file, "tensor '\(name)' has shape \(t.shape), expected \(shape)")
            }
            used.insert(name)
            return t
        }
        func shape(of name: String) throws -> [Int] {
            guard let t = tensors[name] else { throw LinstoryError(.notFound, file: file, "missing tensor '\(name)'") }
            return t.shape
        }

        if tensors["mapping.embed.weight"] != nil {
            throw LinstoryError(.unsupported, file: file, "a class-conditional generator (mapping.embed) is not supported")
        }
        // Mapping network: fc0 ... fc{L-1}.
        var mappingLayers = 0
        while tensors["mapping.fc\(mappingLayers).weight"] != nil { mappingLayers += 1 }
        guard mappingLayers > 0 else { throw LinstoryError(.notFound, file: file, "missing tensor 'mapping.fc0.weight' (not a StyleGAN2 generator?)") }
        let fc0 = try shape(of: "mapping.fc0.weight")
        guard fc0.count == 2 else { throw LinstoryError(.mismatch, file: file, "tensor 'mapping.fc0.weight' has shape \(fc0), expected 2 dimensions") }
        var features = [fc0[1]]
        var fcs: [FullyConnectedLayer] = []
        for i in 0..<mappingLayers {
            let s = try shape(of: "mapping.fc\(i).weight")
            guard s.count == 2, s[1] == features[i], s[0] > 0 else {
                throw LinstoryError(.mismatch, file: file, "tensor 'mapping.fc\(i).weight' has shape \(s), expected [*, \(features[i])]")
            }
            features.append(s[0])
            let w = try take("mapping.fc\(i).weight", s)
            let b = try take("mapping.fc\(i).bias", [s[0]])
            fcs.append(FullyConnectedLayer(weight: w, bias: b, lrMultiplier: mappingLRMultiplier, lrelu: true))
        }
        let wDim = features.last!
        let wAvg = try take("mapping.w_avg", [wDim])

        // Synthesis blocks b4, b8, ... as far as they go.
        var blockChannels: [Int] = []
        while tensors["synthesis.b\(4 << blockChannels.count).conv1.weight"] != nil {
            let s = try shape(of: "synthesis.b\(4 << blockChannels.count).conv1.weight")
            guard s.count == 4, s[0] > 0 else {
                throw LinstoryError(.mismatch, file: file, "tensor 'synthesis.b\(4 << blockChannels.count).conv1.weight' has shape \(s), expected [C, C, 3, 3]")
            }
            blockChannels.append(s[0])
        }
        guard !blockChannels.isEmpty else { throw LinstoryError(.notFound, file: file, "missing tensor 'synthesis.b4.conv1.weight'") }
        let rgbShape = try shape(of: "synthesis.b4.torgb.weight")
        guard rgbShape.count == 4, rgbShape[0] >= 1 else {
            throw LinstoryError(.mismatch, file: file, "tensor 'synthesis.b4.torgb.weight' has shape \(rgbShape), expected [C, \(blockChannels[0]), 1, 1]")
        }
        let imgChannels = rgbShape[0]
        let numWs = 2 * blockChannels.count

        var blocks: [SynthesisBlock] = []
        for (bi, c) in blockChannels.enumerated() {
            let res = 4 << bi
            let prefix = "synthesis.b\(res)"
            let filterTaps = try separableTaps(take("\(prefix).resample_filter", [4, 4]), name: "\(prefix).resample_filter", file: file)
            func layer(_ kind: String, inC: Int, up: Bool, wIndex: Int) throws -> SynthesisLayer {
                let p = "\(prefix).\(kind)"
                let taps = try separableTaps(take("\(p).resample_filter", [4, 4]), name: "\(p).resample_filter", file: file)
                // Not NVIDIA's: a tuned scene's noise offset, in the stand-alone generators `export` writes.
                let offsetName = SynthesisLayer.noiseOffsetName(layer: p)
                let offset = tensors[offsetName] == nil ? nil : try take(offsetName, [res, res])
                return SynthesisLayer(
                    name: p, inChannels: inC, outChannels: c, resolution: res, up: up, convClamp: convClamp, wIndex: wIndex,
                    weight: try take("\(p).weight", [c, inC, 3, 3]), bias: try take("\(p).bias", [c]),
                    noiseStrength: try take("\(p).noise_strength", []), noiseConst: try take("\(p).noise_const", [res, res]),
                    affine: FullyConnectedLayer(
                        weight: try take("\(p).affine.weight", [inC, wDim]), bias: try take("\(p).affine.bias", [inC]),
                        lrMultiplier: 1, lrelu: false),
                    upTaps: taps, noiseOffset: offset)
            }
            let const = bi == 0 ? try take("\(prefix).const", [c, 4, 4]) : nil
            let conv0 = bi == 0 ? nil : try layer("conv0", inC: blockChannels[bi - 1], up: true, wIndex: 2 * bi - 1)
            let conv1 = try layer("conv1", inC: c, up: false, wIndex: 2 * bi)
            let torgb = ToRGBLayer(
                name: "\(prefix).torgb", inChannels: c, imgChannels: imgChannels, resolution: res, convClamp: convClamp,
                wIndex: 2 * bi + 1,
                weight: try take("\(prefix).torgb.weight", [imgChannels, c, 1, 1]), bias: try take("\(prefix).torgb.bias", [imgChannels]),
                affine: FullyConnectedLayer(
                    weight: try take("\(prefix).torgb.affine.weight", [c, wDim]), bias: try take("\(prefix).torgb.affine.bias", [c]),
                    lrMultiplier: 1, lrelu: false))
            blocks.append(SynthesisBlock(resolution: res, const: const, conv0: conv0, conv1: conv1, torgb: torgb, imageUpTaps: filterTaps))
        }

        let unexpected = Set(tensors.keys).subtracting(used).sorted()
        if let first = unexpected.first {
            let more = unexpected.count > 1 ? " (and \(unexpected.count - 1) more)" : ""
            throw LinstoryError(.unsupported, file: file, "unexpected tensor '\(first)'\(more)")
        }
        for name in used.sorted() {
            let t = tensors[name]!
            if let bad = t.withUnsafeBufferPointer({ $0.firstIndex { !$0.isFinite } }) {
                throw LinstoryError(.corrupt, file: file, "tensor '\(name)' holds \(t[flat: bad]) at index \(bad)")
            }
        }

        let config = GeneratorConfig(
            zDim: features[0], wDim: wDim, imgResolution: 4 << (blockChannels.count - 1), imgChannels: imgChannels,
            mappingLayers: mappingLayers, mappingFeatures: features, blockChannels: blockChannels, convClamp: convClamp,
            mappingLRMultiplier: mappingLRMultiplier)
        let mapping = MappingNetwork(layers: fcs, wAvg: wAvg, numWs: numWs)
        let synthesis = SynthesisNetwork(
            blocks: blocks, wDim: wDim, numWs: numWs, imgChannels: imgChannels, imgResolution: config.imgResolution)
        return Generator(config: config, mapping: mapping, synthesis: synthesis)
    }

    /// NVIDIA stores the 2D filter outer(f, f) / sum; we run it separably. Returns the per-axis taps
    /// flipped (upfirdn2d convolves) with the up-sampling gain 2 per axis folded in.
    static func separableTaps(_ f: Tensor, name: String, file: String) throws -> [Float] {
        let v = f.scalars
        let rows = (0..<4).map { r in (0..<4).reduce(Float(0)) { $0 + v[r * 4 + $1] } }
        for r in 0..<4 {
            for c in 0..<4 where abs(rows[r] * rows[c] - v[r * 4 + c]) > 1e-6 {
                throw LinstoryError(.unsupported, file: file, "tensor '\(name)' is not a separable filter (unsupported)")
            }
        }
        return rows.reversed().map { $0 * 2 }
    }
}
