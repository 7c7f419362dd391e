import Engine

/// rosinality's `Generator(size, style_dim, n_mlp)` state_dict, written module by module as
/// stylegan2-pytorch's `model.py` declares it, and filled from an official (NVIDIA) state_dict. Kept
/// apart from linstory's own reader (`RosinalityCheckpoint.officialTensors`) on purpose: it follows
/// rosinality's constructors, not the reader's table, so a test that round-trips through both checks
/// the reader against rosinality's code.
public enum RosinalityLayout {
    /// `make_kernel([1, 3, 3, 1]) * factor ** 2` with factor 2: outer(k, k) / sum, times 4, computed
    /// here from scratch rather than taken from NVIDIA's resample_filter.
    public static var upsampleKernel: Tensor {
        let k: [Float] = [1, 3, 3, 1]
        let outer = k.flatMap { a in k.map { a * $0 } }
        let sum = outer.reduce(0, +)
        return Tensor(shape: [4, 4], values: outer.map { $0 / sum * 4 })
    }

    public static func stateDict(fromOfficial t: [String: Tensor]) -> TorchSaveWriter.StateDict {
        var out: TorchSaveWriter.StateDict = []
        func put(_ name: String, _ tensor: Tensor?, _ shape: [Int]? = nil) {
            guard let tensor else { preconditionFailure("the official state_dict lacks what '\(name)' needs") }
            out.append((name, shape.map { tensor.reshaped($0) } ?? tensor))
        }
        // self.style = Sequential(PixelNorm(), EqualLinear(style_dim, style_dim, lr_mul=lr_mlp,
        // activation='fused_lrelu') x n_mlp). EqualLinear keeps randn(out, in).div_(lr_mul) and
        // multiplies by lr_mul / sqrt(in) (and the bias by lr_mul) when it runs: NVIDIA's
        // FullyConnectedLayer keeps and scales its weight and bias the same way, so values carry over.
        var i = 0
        while let w = t["mapping.fc\(i).weight"] {
            put("style.\(i + 1).weight", w)
            put("style.\(i + 1).bias", t["mapping.fc\(i).bias"])
            i += 1
        }
        // self.input = ConstantInput(channels[4]): input [1, C, 4, 4].
        let const = t["synthesis.b4.const"]
        put("input.input", const, [1] + (const?.shape ?? []))

        // StyledConv(in, out, 3, style_dim, upsample): conv = ModulatedConv2d (weight [1, out, in, k, k],
        // blur.kernel when upsampling, modulation = EqualLinear(style_dim, in, bias_init=1)), noise =
        // NoiseInjection (weight [1]), activate = FusedLeakyReLU(out) (bias [out]).
        func styledConv(_ name: String, _ official: String, upsample: Bool) {
            let w = t["\(official).weight"]
            put("\(name).conv.weight", w, [1] + (w?.shape ?? []))
            if upsample { put("\(name).conv.blur.kernel", upsampleKernel) }
            put("\(name).conv.modulation.weight", t["\(official).affine.weight"])
            put("\(name).conv.modulation.bias", t["\(official).affine.bias"])
            put("\(name).noise.weight", t["\(official).noise_strength"], [1])
            put("\(name).activate.bias", t["\(official).bias"])
        }
        // ToRGB(in, style_dim, upsample): upsample = Upsample(blur_kernel) (kernel buffer), conv =
        // ModulatedConv2d(in, 3, 1, style_dim, demodulate=False), bias [1, 3, 1, 1].
        func toRGB(_ name: String, _ official: String, upsample: Bool) {
            if upsample { put("\(name).upsample.kernel", upsampleKernel) }
            let w = t["\(official).weight"]
            put("\(name).conv.weight", w, [1] + (w?.shape ?? []))
            put("\(name).conv.modulation.weight", t["\(official).affine.weight"])
            put("\(name).conv.modulation.bias", t["\(official).affine.bias"])
            put("\(name).bias", t["\(official).bias"], [1, 3, 1, 1])
        }
        styledConv("conv1", "synthesis.b4.conv1", upsample: false)
        toRGB("to_rgb1", "synthesis.b4.torgb", upsample: false)

        // for i in range(3, log_size + 1): convs += [StyledConv(in, out, upsample=True), StyledConv(out, out)];
        // to_rgbs += [ToRGB(out)]. forward() pairs convs[::2], convs[1::2] with each to_rgbs entry.
        var logSize = 2
        while t["synthesis.b\(1 << (logSize + 1)).conv0.weight"] != nil { logSize += 1 }
        for level in 3...max(3, logSize) where level <= logSize {
            let b = "synthesis.b\(1 << level)"
            styledConv("convs.\(2 * (level - 3))", "\(b).conv0", upsample: true)
            styledConv("convs.\(2 * (level - 3) + 1)", "\(b).conv1", upsample: false)
        }
        for level in 3...max(3, logSize) where level <= logSize {
            toRGB("to_rgbs.\(level - 3)", "synthesis.b\(1 << level).torgb", upsample: true)
        }

        // noises.noise_{layer_idx} for layer_idx in range((log_size - 2) * 2 + 1), shape
        // [1, 1, 2**res, 2**res] with res = (layer_idx + 5) // 2. forward() hands noise[0] to conv1 and
        // noise[1::2], noise[2::2] to convs[::2], convs[1::2].
        for layer in 0..<((logSize - 2) * 2 + 1) {
            let res = 1 << ((layer + 5) / 2)
            let official = layer == 0 ? "synthesis.b4.conv1" : "synthesis.b\(res).conv\(layer % 2 == 1 ? 0 : 1)"
            put("noises.noise_\(layer)", t["\(official).noise_const"], [1, 1, res, res])
        }
        return out
    }
}
