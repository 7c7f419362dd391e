import Foundation

/// A checkpoint of rosinality's stylegan2-pytorch: `torch.save({'g_ema': state_dict, ...})`, zip or
/// legacy format. Its generator is StyleGAN2 config-f by other names; `officialTensors` renames it
/// onto NVIDIA's names so that it runs in the same engine.
///
/// The layouts agree except in these places (from rosinality's `model.py`):
/// - the mapping MLP is `style.1` ... `style.N` (`style.0` is PixelNorm), EqualLinear with lr_mul 0.01:
///   the weight is stored divided by lr_mul and scaled by lr_mul / sqrt(in) at run time, the bias
///   scaled by lr_mul, exactly as NVIDIA's FullyConnectedLayer stores and scales them;
/// - a StyledConv is `conv.weight` [1, O, I, k, k], `conv.modulation` (EqualLinear, bias_init 1, like
///   NVIDIA's affine), `noise.weight` [1] and `activate.bias` (FusedLeakyReLU: bias, lrelu 0.2, x sqrt 2);
///   the demodulated weight's 1/sqrt(fan_in) scale cancels in demodulation, as NVIDIA omits it;
/// - ToRGB is `conv` (1x1, no demodulation, scale 1/sqrt(in) like NVIDIA's weight_gain) and `bias`
///   [1, 3, 1, 1]; `to_rgb1` belongs to b4, `to_rgbs.i` to the block after;
/// - `convs.2i` (up-sampling) and `convs.2i+1` are b(8 * 2^i)'s conv0 and conv1, with noise buffers
///   `noises.noise_{2i+1}` and `noise_{2i+2}` ([1, 1, R, R]); `conv1` and `noise_0` are b4's;
/// - the blur kernels (`convs.2i.conv.blur.kernel`, `to_rgbs.i.upsample.kernel`) are
///   make_kernel([1, 3, 3, 1]) x factor^2 = 4 x NVIDIA's resample_filter;
/// - there is no w_avg and no conv_clamp.
public struct RosinalityCheckpoint: Sendable {
    public let path: String
    /// g_ema under rosinality's names.
    public let stateDict: [String: Tensor]
    /// `latent_avg` [w_dim] where the file has one (files converted from NVIDIA's TensorFlow pickles do).
    public let latentAvg: Tensor?

    public init(path: String) throws {
        try self.init(bytes: AtomicFile.read(path), name: path)
    }

    public init(bytes: [UInt8], name: String) throws {
        let pickle = try TorchPickle(torchSave: bytes, name: name)
        guard let top = pickle.dict(pickle.root) else {
            throw LinstoryError(.wrongFormat, file: name, "holds \(pickle.describe(pickle.root)), not a dict with 'g_ema'")
        }
        path = name
        if let g = top["g_ema"] {
            stateDict = try pickle.stateDict(g, what: "g_ema")
        } else if top["style.1.weight"] != nil {
            // A bare generator state_dict, as `torch.save(g_ema.state_dict())` writes it.
            stateDict = try pickle.stateDict(pickle.root, what: "the state_dict")
        } else {
            let keys = top.keys.compactMap { if case .string(let s) = $0 { "'\(s)'" } else { nil } }
            throw LinstoryError(.notFound, file: name, "no 'g_ema' in the file (it has \(keys.prefix(8).joined(separator: ", ")))")
        }
        if let avg = top["latent_avg"], case .tensor(let ref)? = pickle.object(avg) {
            let t = try pickle.tensor(ref, what: "tensor 'latent_avg'")
            latentAvg = t.reshaped([t.count])
        } else {
            latentAvg = nil
        }
    }

    /// rosinality's names and shapes onto NVIDIA's (see the type's comment); every tensor must be used.
    /// `mapping.w_avg` is not among the results: rosinality keeps none.
    public static func officialTensors(_ r: [String: Tensor], file: String) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        var used = Set<String>()
        func take(_ name: String) throws -> Tensor {
            guard let t = r[name] else { throw LinstoryError(.notFound, file: file, "missing tensor '\(name)' (not a rosinality generator?)") }
            used.insert(name)
            return t
        }
        /// `name` reshaped to `shape`, which must hold the same elements.
        func take(_ name: String, as shape: [Int]) throws -> Tensor {
            let t = try take(name)
            guard t.count == shape.reduce(1, *) else {
                throw LinstoryError(.mismatch, file: file, "tensor '\(name)' has shape \(t.shape), expected \(shape) elements' worth")
            }
            return t.reshaped(shape)
        }
        func dims(_ name: String, _ rank: Int) throws -> [Int] {
            guard let t = r[name] else { throw LinstoryError(.notFound, file: file, "missing tensor '\(name)' (not a rosinality generator?)") }
            guard t.rank == rank else { throw LinstoryError(.mismatch, file: file, "tensor '\(name)' has shape \(t.shape), expected \(rank) dimensions") }
            return t.shape
        }
        /// NVIDIA's filter from rosinality's up-sampling kernel: a quarter (exact in binary).
        func filter(_ name: String) throws -> Tensor {
            var k = try take(name, as: [4, 4])
            k.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] /= 4 } }
            return k
        }

        var layers = 0
        while r["style.\(layers + 1).weight"] != nil {
            out["mapping.fc\(layers).weight"] = try take("style.\(layers + 1).weight")
            out["mapping.fc\(layers).bias"] = try take("style.\(layers + 1).bias")
            layers += 1
        }
        guard layers > 0 else { throw LinstoryError(.notFound, file: file, "missing tensor 'style.1.weight' (not a rosinality generator?)") }

        func styledConv(_ from: String, _ to: String, resolution res: Int) throws {
            let w = try dims("\(from).conv.weight", 5)
            out["\(to).weight"] = try take("\(from).conv.weight", as: Array(w.dropFirst()))
            out["\(to).affine.weight"] = try take("\(from).conv.modulation.weight")
            out["\(to).affine.bias"] = try take("\(from).conv.modulation.bias")
            out["\(to).noise_strength"] = try take("\(from).noise.weight", as: [])
            out["\(to).bias"] = try take("\(from).activate.bias")
        }
        func toRGB(_ from: String, _ to: String) throws {
            let w = try dims("\(from).conv.weight", 5)
            out["\(to).weight"] = try take("\(from).conv.weight", as: Array(w.dropFirst()))
            out["\(to).affine.weight"] = try take("\(from).conv.modulation.weight")
            out["\(to).affine.bias"] = try take("\(from).conv.modulation.bias")
            out["\(to).bias"] = try take("\(from).bias", as: [w[1]])
        }

        let c4 = try dims("input.input", 4)
        out["synthesis.b4.const"] = try take("input.input", as: Array(c4.dropFirst()))
        try styledConv("conv1", "synthesis.b4.conv1", resolution: 4)
        out["synthesis.b4.conv1.noise_const"] = try take("noises.noise_0", as: [4, 4])
        try toRGB("to_rgb1", "synthesis.b4.torgb")

        var blocks = 0
        while r["convs.\(2 * blocks).conv.weight"] != nil {
            let res = 8 << blocks
            let b = "synthesis.b\(res)"
            try styledConv("convs.\(2 * blocks)", "\(b).conv0", resolution: res)
            try styledConv("convs.\(2 * blocks + 1)", "\(b).conv1", resolution: res)
            out["\(b).conv0.resample_filter"] = try filter("convs.\(2 * blocks).conv.blur.kernel")
            out["\(b).resample_filter"] = try filter("to_rgbs.\(blocks).upsample.kernel")
            out["\(b).conv0.noise_const"] = try take("noises.noise_\(2 * blocks + 1)", as: [res, res])
            out["\(b).conv1.noise_const"] = try take("noises.noise_\(2 * blocks + 2)", as: [res, res])
            try toRGB("to_rgbs.\(blocks)", "\(b).torgb")
            blocks += 1
        }
        // Layers that never resample carry NVIDIA's filter all the same (unused; the loader wants it).
        let unused = blocks > 0 ? out["synthesis.b8.resample_filter"] : nil
        let standard = unused ?? Tensor(shape: [4, 4], values: [1, 3, 3, 1].flatMap { a in [1, 3, 3, 1].map { Float(a * $0) / 64 } })
        out["synthesis.b4.resample_filter"] = standard
        out["synthesis.b4.conv1.resample_filter"] = standard
        for i in 0..<blocks { out["synthesis.b\(8 << i).conv1.resample_filter"] = standard }

        let unexpected = Set(r.keys).subtracting(used).sorted()
        if let first = unexpected.first {
            let more = unexpected.count > 1 ? " (and \(unexpected.count - 1) more)" : ""
            throw LinstoryError(.unsupported, file: file, "unexpected tensor '\(first)' in g_ema\(more)")
        }
        return out
    }

    /// The mean of `samples` mapping outputs for z = numpy `RandomState(seed).randn(samples, z_dim)`
    /// (no truncation), summed in double: what rosinality's `mean_latent` estimates, made reproducible.
    public static func estimatedWAvg(of mapping: MappingNetwork, samples: Int = 10_000, seed: UInt32 = 0) -> Tensor {
        var rng = NumpyRandomState(seed: seed)
        let zDim = mapping.zDim, wDim = mapping.wDim
        var sum = [Double](repeating: 0, count: wDim)
        let batch = 500
        var done = 0
        while done < samples {
            let n = min(batch, samples - done)
            let z = rng.latents(n, zDim: zDim)
            let ws = mapping(z)  // [n, num_ws, w_dim], every row the same w
            ws.withUnsafeBufferPointer { p in
                for s in 0..<n { for j in 0..<wDim { sum[j] += Double(p[s * mapping.numWs * wDim + j]) } }
            }
            done += n
        }
        return Tensor(shape: [wDim], values: sum.map { Float($0 / Double(samples)) })
    }
}
