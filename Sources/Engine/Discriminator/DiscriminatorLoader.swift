/// Builds a `Discriminator` from tensors with the official `state_dict` names (`b64.fromrgb.weight`,
/// `b32.conv0.bias`, `b4.fc.weight`, ...), checking every name and shape against what the tensors
/// themselves imply: resolution from the block that has `fromrgb`, channels from the weights, the
/// minibatch-std features from `b4.conv.weight`. Only conv_clamp and the group size come from outside.
public enum DiscriminatorLoader {
    /// `file` names the source in errors.
    public static func build(
        tensors: [String: Tensor], convClamp: Float?, mbstdGroupSize: Int? = 4, file: String
    ) throws -> Discriminator {
        var used = Set<String>()
        func fail(_ kind: LinstoryError.Kind, _ problem: String) -> LinstoryError { LinstoryError(kind, file: file, problem) }
        func shape(of name: String) throws -> [Int] {
            guard let t = tensors[name] else { throw fail(.notFound, "missing tensor '\(name)'") }
            return t.shape
        }
        func take(_ name: String, _ shape: [Int]) throws -> Tensor {
            guard let t = tensors[name] else { throw fail(.notFound, "missing tensor '\(name)'") }
            guard t.shape == shape else { throw fail(.mismatch, "tensor '\(name)' has shape \(t.shape), expected \(shape)") }
            used.insert(name)
            return t
        }
        func taps(_ name: String) throws -> [Float] {
            guard let taps = separableFilterTaps(try take(name, [4, 4])) else {
                throw fail(.unsupported, "tensor '\(name)' is not a separable filter")
            }
            return taps
        }

        if tensors.keys.contains(where: { $0.hasPrefix("mapping.") }) {
            throw fail(.unsupported, "a class-conditional discriminator (mapping.*) is not supported")
        }
        // The first block is the one with fromrgb; a 'skip' discriminator has one in every block.
        let rgbBlocks = tensors.keys.compactMap { key -> Int? in
            guard key.hasSuffix(".fromrgb.weight"), key.hasPrefix("b") else { return nil }
            return Int(key.dropFirst().prefix { $0.isNumber })
        }.sorted()
        guard let imgResolution = rgbBlocks.last else {
            throw fail(.notFound, "no 'b<R>.fromrgb.weight' tensor (not a StyleGAN2 discriminator?)")
        }
        guard rgbBlocks.count == 1 else {
            throw fail(.unsupported, "fromrgb in \(rgbBlocks.count) blocks: a 'skip' discriminator (only 'resnet', NVIDIA's default, is supported)")
        }
        guard imgResolution >= 8, imgResolution.nonzeroBitCount == 1, imgResolution <= 1 << 14 else {
            throw fail(.unsupported, "first block b\(imgResolution) is not a power of two from 8 up")
        }
        if tensors["b\(imgResolution).conv0.weight"] != nil && tensors["b\(imgResolution).skip.weight"] == nil {
            throw fail(.unsupported, "no 'b\(imgResolution).skip.weight': an 'orig' discriminator (only 'resnet' is supported)")
        }

        let rgbShape = try shape(of: "b\(imgResolution).fromrgb.weight")
        guard rgbShape.count == 4, rgbShape[0] > 0, rgbShape[1] > 0, rgbShape[2] == 1, rgbShape[3] == 1 else {
            throw fail(.mismatch, "tensor 'b\(imgResolution).fromrgb.weight' has shape \(rgbShape), expected [C, 3, 1, 1]")
        }
        let imgChannels = rgbShape[1]
        var channels = [rgbShape[0]]
        var blocks: [DiscriminatorBlock] = []
        var res = imgResolution
        while res >= 8 {
            let p = "b\(res)"
            let t = channels[channels.count - 1]
            let conv1Shape = try shape(of: "\(p).conv1.weight")
            guard conv1Shape.count == 4, conv1Shape[0] > 0 else {
                throw fail(.mismatch, "tensor '\(p).conv1.weight' has shape \(conv1Shape), expected [C, \(t), 3, 3]")
            }
            let o = conv1Shape[0]
            _ = try take("\(p).resample_filter", [4, 4])
            var fromrgb: Conv2dLayer?
            if res == imgResolution {
                _ = try take("\(p).fromrgb.resample_filter", [4, 4])
                fromrgb = Conv2dLayer(
                    name: "\(p).fromrgb", weight: try take("\(p).fromrgb.weight", [t, imgChannels, 1, 1]),
                    bias: try take("\(p).fromrgb.bias", [t]), down: 1, lrelu: true, convClamp: convClamp)
            }
            _ = try take("\(p).conv0.resample_filter", [4, 4])
            let conv0 = Conv2dLayer(
                name: "\(p).conv0", weight: try take("\(p).conv0.weight", [t, t, 3, 3]), bias: try take("\(p).conv0.bias", [t]),
                down: 1, lrelu: true, convClamp: convClamp)
            let half = Float(0.5).squareRoot()
            let conv1 = Conv2dLayer(
                name: "\(p).conv1", weight: try take("\(p).conv1.weight", [o, t, 3, 3]), bias: try take("\(p).conv1.bias", [o]),
                down: 2, lrelu: true, gain: half, convClamp: convClamp, filterTaps: try taps("\(p).conv1.resample_filter"))
            // NVIDIA builds skip without conv_clamp.
            let skip = Conv2dLayer(
                name: "\(p).skip", weight: try take("\(p).skip.weight", [o, t, 1, 1]), bias: nil, down: 2, lrelu: false, gain: half,
                convClamp: nil, filterTaps: try taps("\(p).skip.resample_filter"))
            blocks.append(DiscriminatorBlock(resolution: res, fromrgb: fromrgb, conv0: conv0, conv1: conv1, skip: skip))
            channels.append(o)
            res /= 2
        }

        // Epilogue b4.
        let c = channels[channels.count - 1]
        let convShape = try shape(of: "b4.conv.weight")
        guard convShape.count == 4, convShape[0] == c, convShape[1] >= c, convShape[2] == 3, convShape[3] == 3 else {
            throw fail(.mismatch, "tensor 'b4.conv.weight' has shape \(convShape), expected [\(c), \(c) + mbstd channels, 3, 3]")
        }
        let features = convShape[1] - c
        guard features == 0 || c % features == 0 else {
            throw fail(.unsupported, "b4.conv.weight implies \(features) minibatch-std features, which do not divide \(c) channels")
        }
        _ = try take("b4.conv.resample_filter", [4, 4])
        let conv = Conv2dLayer(
            name: "b4.conv", weight: try take("b4.conv.weight", convShape), bias: try take("b4.conv.bias", [c]), down: 1, lrelu: true,
            convClamp: convClamp)
        let fc = FullyConnectedLayer(
            weight: try take("b4.fc.weight", [c, c * 16]), bias: try take("b4.fc.bias", [c]), lrMultiplier: 1, lrelu: true)
        let outShape = try shape(of: "b4.out.weight")
        guard outShape == [1, c] else {
            throw fail(
                outShape.count == 2 && outShape[0] > 1 ? .unsupported : .mismatch,
                "tensor 'b4.out.weight' has shape \(outShape), expected [1, \(c)] (a conditional discriminator's cmap is not supported)")
        }
        let out = FullyConnectedLayer(
            weight: try take("b4.out.weight", [1, c]), bias: try take("b4.out.bias", [1]), lrMultiplier: 1, lrelu: false)
        if let g = mbstdGroupSize, g < 1 { throw fail(.invalidValue, "minibatch-std group size \(g) is not positive") }

        let unexpected = Set(tensors.keys).subtracting(used).sorted()
        if let first = unexpected.first {
            let more = unexpected.count > 1 ? " (and \(unexpected.count - 1) more)" : ""
            throw fail(.unsupported, "unexpected tensor '\(first)'\(more)")
        }
        for name in used.sorted() {
            let t = tensors[name]!
            if let bad = t.withUnsafeBufferPointer({ $0.firstIndex { !$0.isFinite } }) {
                throw fail(.corrupt, "tensor '\(name)' holds \(t[flat: bad]) at index \(bad)")
            }
        }
        let config = DiscriminatorConfig(
            imgResolution: imgResolution, imgChannels: imgChannels, channels: channels, convClamp: convClamp,
            mbstdGroupSize: mbstdGroupSize, mbstdChannels: features)
        let epilogue = DiscriminatorEpilogue(
            mbstd: MinibatchStdLayer(groupSize: mbstdGroupSize, features: features), conv: conv, fc: fc, out: out)
        return Discriminator(config: config, blocks: blocks, epilogue: epilogue)
    }
}
