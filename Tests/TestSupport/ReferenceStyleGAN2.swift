import Engine

/// Noise as NVIDIA's `SynthesisLayer` receives it, for `ReferenceStyleGAN2`.
public enum ReferenceNoise {
    /// noise_mode='none'.
    case none
    /// noise_mode='const': the layer's `noise_const` parameter [R, R] * noise_strength.
    case const
    /// Caller maps, one per conv layer in execution order, each flat [1 or N, R, R] (shared by the
    /// batch or one per sample), broadcast over channels and scaled by noise_strength as NVIDIA's
    /// noise_mode='random' does with its [N, 1, R, R] draws.
    case explicit([[Double]])
}

/// What one reference forward saw, so that a finite-difference test can refuse points where the
/// function is not smooth (an lrelu kink or a clamp edge within reach of the step).
public struct ReferenceTrace {
    /// min |x| over every lrelu input (synthesis conv layers and mapping layers).
    public var minAbsPreActivation = Double.infinity
    /// min ||v| - clamp| over every clamped value v (conv layers after lrelu * gain, and ToRGB).
    public var minClampDistance = Double.infinity
    /// How many values the clamp changed, per conv layer (execution order) and in the ToRGB layers.
    public var clampedPerConvLayer: [Int] = []
    public var clampedToRGB = 0

    public init() {}

    mutating func preActivation(_ x: Double) { minAbsPreActivation = min(minAbsPreActivation, abs(x)) }

    /// Clamps v to ±c (when c is set), recording how close v came to the edge.
    mutating func clamp(_ v: Double, _ c: Double?, counter: inout Int) -> Double {
        guard let c else { return v }
        minClampDistance = min(minClampDistance, abs(abs(v) - c))
        if abs(v) > c { counter += 1 }
        return min(max(v, -c), c)
    }
}

/// A plain float64 StyleGAN2 generator ('skip' architecture, c_dim = 0) transcribed from NVIDIA's
/// stylegan2-ada-pytorch `training/networks.py`, `torch_utils/ops/conv2d_resample.py` and
/// `upfirdn2d.py` (`_upfirdn2d_ref`). It shares nothing with the engine's formulation on purpose:
///
/// - styles modulate the *weights* per sample and demodulation rescales them, as the fused path
///   (`fused_modconv=True`) does: w = weight * styles; w *= rsqrt(Σ w² + 1e-8);
///   the engine instead scales activations and shares one GEMM over the batch;
/// - convolutions are direct loops over NCHW (the engine lowers CNHW with im2col);
/// - the up-sampling conv follows `conv2d_resample` literally: conv_transpose2d with stride 2 and
///   the *unflipped* weight transposed to [I, O, 3, 3] (SynthesisLayer passes flip_weight=False for
///   up layers and conv2d_resample hands `not flip_weight` to the transposed conv), then upfirdn2d
///   with the stored 2D 4x4 filter, padding [1, 1, 1, 1], gain 4;
/// - the skip image goes through upsample2d: upfirdn2d(up=2, padding [2, 1, 2, 1], gain 4) with
///   the block's stored 2D filter (the engine runs precomputed separable taps);
/// - w indices come from NVIDIA's `w_idx` bookkeeping in `SynthesisNetwork.forward`.
///
/// Every parameter is held by its official name in `parameters`, so a test can perturb any scalar.
/// Slow: for tiny generators only.
public struct ReferenceStyleGAN2 {
    /// Every tensor of the state_dict by official name, widened to float64 (row-major).
    public var parameters: [String: [Double]]
    public let shapes: [String: [Int]]
    /// conv_clamp (nil for none).
    public var convClamp: Double?
    public let mappingLRMultiplier: Double

    public let zDim: Int
    public let wDim: Int
    public let mappingLayers: Int
    public let blockResolutions: [Int]
    public let blockChannels: [Int]
    public let imgChannels: Int
    public let numWs: Int
    /// The conv layers' names in execution order (b4.conv1, b8.conv0, b8.conv1, ...) and grids.
    public let convLayerNames: [String]
    public let convLayerResolutions: [Int]

    public var imgResolution: Int { blockResolutions.last! }

    public init(tensors: [String: Tensor], convClamp: Float?, mappingLRMultiplier: Double = 0.01) {
        parameters = tensors.mapValues(\.doubles)
        shapes = tensors.mapValues(\.shape)
        self.convClamp = convClamp.map(Double.init)
        self.mappingLRMultiplier = mappingLRMultiplier
        var layers = 0
        while tensors["mapping.fc\(layers).weight"] != nil { layers += 1 }
        mappingLayers = layers
        zDim = tensors["mapping.fc0.weight"]!.shape[1]
        wDim = tensors["mapping.fc\(layers - 1).weight"]!.shape[0]
        var resolutions: [Int] = []
        var channels: [Int] = []
        while let w = tensors["synthesis.b\(4 << resolutions.count).conv1.weight"] {
            resolutions.append(4 << resolutions.count)
            channels.append(w.shape[0])
        }
        blockResolutions = resolutions
        blockChannels = channels
        imgChannels = tensors["synthesis.b4.torgb.weight"]!.shape[0]
        // SynthesisNetwork.__init__: num_ws += block.num_conv; the last block adds its num_torgb.
        var ws = 0
        var names: [String] = []
        for (bi, res) in resolutions.enumerated() {
            let numConv = bi == 0 ? 1 : 2
            ws += numConv
            if bi == resolutions.count - 1 { ws += 1 }
            if bi > 0 { names.append("synthesis.b\(res).conv0") }
            names.append("synthesis.b\(res).conv1")
        }
        numWs = ws
        convLayerNames = names
        convLayerResolutions = names.map { Int($0.split(separator: ".")[1].dropFirst())! }
    }

    func value(_ name: String) -> [Double] {
        guard let v = parameters[name] else { preconditionFailure("reference: no parameter '\(name)'") }
        return v
    }

    // MARK: - Whole networks

    /// img [N, img_channels, R, R] = G(z [N, z_dim]) with truncation_psi = 1.
    public func generate(z: [Double], batch n: Int, noise: ReferenceNoise, trace: inout ReferenceTrace) -> [Double] {
        synthesis(ws: mapping(z: z, batch: n, trace: &trace), batch: n, noise: noise, trace: &trace)
    }

    /// MappingNetwork.forward (c_dim = 0, truncation_psi = 1): ws [N, num_ws, w_dim] from z [N, z_dim].
    public func mapping(z: [Double], batch n: Int, trace: inout ReferenceTrace) -> [Double] {
        precondition(z.count == n * zDim)
        // normalize_2nd_moment: x * rsqrt(mean(x²) + 1e-8) over dim 1.
        var x = z
        for s in 0..<n {
            var sq = 0.0
            for j in 0..<zDim { sq += z[s * zDim + j] * z[s * zDim + j] }
            let r = 1 / (sq / Double(zDim) + 1e-8).squareRoot()
            for j in 0..<zDim { x[s * zDim + j] = z[s * zDim + j] * r }
        }
        for l in 0..<mappingLayers {
            x = fullyConnected(x, rows: n, name: "mapping.fc\(l)", lrMultiplier: mappingLRMultiplier, lrelu: true, trace: &trace)
        }
        // x.unsqueeze(1).repeat([1, num_ws, 1])
        var ws = [Double](repeating: 0, count: n * numWs * wDim)
        for s in 0..<n { for l in 0..<numWs { for j in 0..<wDim { ws[(s * numWs + l) * wDim + j] = x[s * wDim + j] } } }
        return ws
    }

    /// SynthesisNetwork.forward ('skip'): img [N, img_channels, R, R] from ws [N, num_ws, w_dim].
    public func synthesis(ws: [Double], batch n: Int, noise: ReferenceNoise, trace: inout ReferenceTrace) -> [Double] {
        precondition(ws.count == n * numWs * wDim, "ws must hold [\(n), \(numWs), \(wDim)]")
        trace.clampedPerConvLayer = Array(repeating: 0, count: convLayerNames.count)
        // The w rows [N, w_dim] of latent `index`.
        func w(_ index: Int) -> [Double] {
            var out = [Double](repeating: 0, count: n * wDim)
            for s in 0..<n { for j in 0..<wDim { out[s * wDim + j] = ws[(s * numWs + index) * wDim + j] } }
            return out
        }
        // SynthesisBlock b4: x = const.unsqueeze(0).repeat([N, 1, 1, 1]).
        let c0 = blockChannels[0]
        let const = value("synthesis.b4.const")
        var x = [Double](repeating: 0, count: n * c0 * 16)
        for s in 0..<n { for i in 0..<(c0 * 16) { x[s * c0 * 16 + i] = const[i] } }
        var xChannels = c0
        var img: [Double]? = nil
        var wIndex = 0
        var layerIndex = 0
        for (bi, res) in blockResolutions.enumerated() {
            let prefix = "synthesis.b\(res)"
            let numConv = bi == 0 ? 1 : 2
            // block_ws = ws.narrow(1, w_idx, num_conv + num_torgb); w_idx += num_conv.
            var next = wIndex
            if bi > 0 {
                x = synthesisLayer(
                    x, batch: n, inChannels: xChannels, inputResolution: res / 2, name: prefix + ".conv0", up: true,
                    w: w(next), noise: noise, layerIndex: layerIndex, trace: &trace)
                next += 1
                layerIndex += 1
            }
            x = synthesisLayer(
                x, batch: n, inChannels: bi == 0 ? xChannels : blockChannels[bi], inputResolution: res, name: prefix + ".conv1",
                up: false, w: w(next), noise: noise, layerIndex: layerIndex, trace: &trace)
            xChannels = blockChannels[bi]
            next += 1
            layerIndex += 1
            // img = upfirdn2d.upsample2d(img, self.resample_filter): up 2, padding [2, 1, 2, 1], gain 4.
            if let previous = img {
                img = ReferenceOps.upfirdn2d(
                    previous, planes: n * imgChannels, height: res / 2, width: res / 2,
                    filter: value(prefix + ".resample_filter"), filterHeight: 4, filterWidth: 4,
                    up: 2, padX0: 2, padX1: 1, padY0: 2, padY1: 1, gain: 4
                ).out
            }
            let y = toRGB(x, batch: n, inChannels: xChannels, resolution: res, name: prefix + ".torgb", w: w(next), trace: &trace)
            if var sum = img {
                for i in sum.indices { sum[i] += y[i] }
                img = sum
            } else {
                img = y
            }
            wIndex += numConv
        }
        return img!
    }

    // MARK: - Layers

    /// FullyConnectedLayer: x @ (weight * lr / sqrt(in))^T + bias * lr, then lrelu(0.2) * sqrt(2) when asked.
    func fullyConnected(_ x: [Double], rows: Int, name: String, lrMultiplier: Double, lrelu: Bool, trace: inout ReferenceTrace) -> [Double] {
        let weight = value(name + ".weight")
        let bias = value(name + ".bias")
        let outF = shapes[name + ".weight"]![0]
        let inF = shapes[name + ".weight"]![1]
        precondition(x.count == rows * inF)
        let weightGain = lrMultiplier / Double(inF).squareRoot()
        var y = [Double](repeating: 0, count: rows * outF)
        for r in 0..<rows {
            for o in 0..<outF {
                var acc = 0.0
                for i in 0..<inF { acc += x[r * inF + i] * (weight[o * inF + i] * weightGain) }
                acc += bias[o] * lrMultiplier
                if lrelu {
                    trace.preActivation(acc)
                    acc = (acc > 0 ? acc : 0.2 * acc) * 2.0.squareRoot()
                }
                y[r * outF + o] = acc
            }
        }
        return y
    }

    /// modulated_conv2d, fused path, per sample: x [N, I, H, H] -> [N, O, R, R].
    func modulatedConv2d(
        _ x: [Double], batch n: Int, inChannels ci: Int, outChannels co: Int, inputResolution h: Int, kernel k: Int,
        weight: [Double], styles: [Double], demodulate: Bool, up: Bool, filter: [Double]?
    ) -> (out: [Double], resolution: Int) {
        var out: [Double] = []
        var resolution = 0
        for s in 0..<n {
            // w = weight[None] * styles[:, None, :, None, None]; dcoefs = (w.square().sum([2,3,4]) + 1e-8).rsqrt().
            var wm = [Double](repeating: 0, count: co * ci * k * k)
            for o in 0..<co {
                var sumSquares = 0.0
                for i in 0..<ci {
                    for t in 0..<(k * k) {
                        let v = weight[(o * ci + i) * k * k + t] * styles[s * ci + i]
                        wm[(o * ci + i) * k * k + t] = v
                        sumSquares += v * v
                    }
                }
                if demodulate {
                    let d = 1 / (sumSquares + 1e-8).squareRoot()
                    for t in 0..<(ci * k * k) { wm[o * ci * k * k + t] *= d }
                }
            }
            let sample = Array(x[(s * ci * h * h)..<((s + 1) * ci * h * h)])
            if up {
                // conv2d_resample, up = 2, padding 1, 4x4 filter: px0 = 1 + 2 - (3 - 1) = 1, px1 = 1 + 1 - (3 - 2) = 1,
                // so conv_transpose2d(stride 2, padding 0) with w.transpose(0, 1) unflipped, then
                // upfirdn2d(padding [1, 1, 1, 1], gain up² = 4).
                var wt = [Double](repeating: 0, count: ci * co * k * k)
                for o in 0..<co { for i in 0..<ci { for t in 0..<(k * k) { wt[(i * co + o) * k * k + t] = wm[(o * ci + i) * k * k + t] } } }
                let t = ReferenceOps.convTranspose2d(sample, channels: ci, height: h, width: h, weight: wt, outChannels: co, kernel: k, stride: 2)
                let f = ReferenceOps.upfirdn2d(
                    t.out, planes: co, height: t.height, width: t.width, filter: filter!, filterHeight: 4, filterWidth: 4,
                    up: 1, padX0: 1, padX1: 1, padY0: 1, padY1: 1, gain: 4)
                out += f.out
                resolution = f.height
            } else {
                // conv2d with flip_weight=True: PyTorch's correlation, padding k // 2.
                let c = ReferenceOps.conv2d(sample, channels: ci, height: h, width: h, weight: wm, outChannels: co, kernel: k, padding: k / 2)
                out += c.out
                resolution = c.height
            }
        }
        return (out, resolution)
    }

    /// SynthesisLayer.forward: modulated conv, + noise * strength, bias_act(lrelu, gain sqrt(2), clamp).
    func synthesisLayer(
        _ x: [Double], batch n: Int, inChannels ci: Int, inputResolution h: Int, name: String, up: Bool,
        w: [Double], noise: ReferenceNoise, layerIndex: Int, trace: inout ReferenceTrace
    ) -> [Double] {
        let co = shapes[name + ".weight"]![0]
        precondition(shapes[name + ".weight"]! == [co, ci, 3, 3])
        let styles = fullyConnected(w, rows: n, name: name + ".affine", lrMultiplier: 1, lrelu: false, trace: &trace)
        var (y, r) = modulatedConv2d(
            x, batch: n, inChannels: ci, outChannels: co, inputResolution: h, kernel: 3, weight: value(name + ".weight"),
            styles: styles, demodulate: true, up: up, filter: up ? value(name + ".resample_filter") : nil)
        let hw = r * r
        let strength = value(name + ".noise_strength")[0]
        switch noise {
        case .none:
            break
        case .const:
            let map = value(name + ".noise_const")
            for s in 0..<n { for o in 0..<co { for p in 0..<hw { y[(s * co + o) * hw + p] += map[p] * strength } } }
        case .explicit(let maps):
            let map = maps[layerIndex]
            precondition(map.count == hw || map.count == n * hw, "noise for \(name) must be [1 or \(n), \(r), \(r)]")
            let perSample = map.count == n * hw && n > 1
            for s in 0..<n {
                for o in 0..<co { for p in 0..<hw { y[(s * co + o) * hw + p] += map[(perSample ? s * hw : 0) + p] * strength } }
            }
        }
        let bias = value(name + ".bias")
        var counter = 0
        for s in 0..<n {
            for o in 0..<co {
                for p in 0..<hw {
                    let i = (s * co + o) * hw + p
                    let v = y[i] + bias[o]
                    trace.preActivation(v)
                    y[i] = trace.clamp((v > 0 ? v : 0.2 * v) * 2.0.squareRoot(), convClamp, counter: &counter)
                }
            }
        }
        trace.clampedPerConvLayer[layerIndex] += counter
        return y
    }

    /// ToRGBLayer.forward: styles * 1 / sqrt(in_channels * 1²), 1x1 modulated conv without
    /// demodulation, bias_act(linear, clamp).
    func toRGB(_ x: [Double], batch n: Int, inChannels ci: Int, resolution r: Int, name: String, w: [Double], trace: inout ReferenceTrace) -> [Double] {
        var styles = fullyConnected(w, rows: n, name: name + ".affine", lrMultiplier: 1, lrelu: false, trace: &trace)
        let weightGain = 1 / Double(ci).squareRoot()
        for i in styles.indices { styles[i] *= weightGain }
        var (y, _) = modulatedConv2d(
            x, batch: n, inChannels: ci, outChannels: imgChannels, inputResolution: r, kernel: 1, weight: value(name + ".weight"),
            styles: styles, demodulate: false, up: false, filter: nil)
        let bias = value(name + ".bias")
        let hw = r * r
        var counter = 0
        for s in 0..<n {
            for c in 0..<imgChannels {
                for p in 0..<hw {
                    let i = (s * imgChannels + c) * hw + p
                    y[i] = trace.clamp(y[i] + bias[c], convClamp, counter: &counter)
                }
            }
        }
        trace.clampedToRGB += counter
        return y
    }
}
