import Foundation

/// NVIDIA's `Conv2dLayer` as the discriminator runs it: equalized learning rate (weight * 1/sqrt(I k k)
/// at run time), conv2d_resample (down = 2: the [1,3,3,1] FIR, then a stride-2 3x3 conv, or for a 1x1
/// kernel the FIR's own stride 2 then the conv), then bias_act: + bias, lrelu(0.2) or linear, times
/// act_gain * gain, clamp to +-conv_clamp * gain. `gain` is the forward's argument: sqrt(0.5) for a
/// resnet block's conv1 and skip, so their sum keeps the variance.
public struct Conv2dLayer: Sendable {
    public let name: String  // "b64.conv1"
    public let inChannels: Int  // I
    public let outChannels: Int  // O
    public let kernelSize: Int  // k: 1 or 3 (padding k / 2)
    public let down: Int  // 1 or 2
    public let lrelu: Bool  // else linear
    public let gain: Float
    /// The layer's conv_clamp (nil: none); applied scaled by `gain`.
    public let convClamp: Float?
    /// Fixed once made: `prepared` is derived from it.
    public let weight: Tensor  // [O, I, k, k]
    /// Free to change (a copy of the layer shares the weight's derivatives).
    public var bias: Tensor? {  // [O]
        willSet { precondition(newValue == nil || newValue!.shape == [outChannels], "\(name): bias must be [\(outChannels)]") }
    }
    /// The FIR taps per axis, flipped (see `FIRAxis`); used when down > 1.
    public let filterTaps: [Float]
    /// What the passes derive from the weight: made once, shared by copies of the layer.
    let prepared: Prepared

    /// 1 / sqrt(I k k), computed in double and rounded once, as numpy computes NVIDIA's.
    public var weightGain: Float { Float(1 / Double(inChannels * kernelSize * kernelSize).squareRoot()) }
    /// What multiplies the activation: sqrt(2) for lrelu (NVIDIA's def_gain), 1 for linear, times `gain`.
    public var activationGain: Float { (lrelu ? Float(2).squareRoot() : 1) * gain }
    /// The clamp on the output, +-conv_clamp * gain; infinity for none.
    public var clamp: Float { convClamp.map { $0 * gain } ?? .infinity }

    public init(
        name: String, weight: Tensor, bias: Tensor?, down: Int, lrelu: Bool, gain: Float = 1, convClamp: Float?,
        filterTaps: [Float] = []
    ) {
        precondition(weight.rank == 4 && weight.shape[2] == weight.shape[3], "\(name): weight must be [O, I, k, k], got \(weight.shape)")
        precondition(bias == nil || bias!.shape == [weight.shape[0]], "\(name): bias must be [\(weight.shape[0])]")
        precondition(down == 1 || filterTaps.count == 4, "\(name): a down-sampling layer needs the 4-tap filter")
        self.name = name
        self.outChannels = weight.shape[0]
        self.inChannels = weight.shape[1]
        self.kernelSize = weight.shape[2]
        self.down = down
        self.lrelu = lrelu
        self.gain = gain
        self.convClamp = convClamp
        self.weight = weight
        self.bias = bias
        self.filterTaps = filterTaps
        self.prepared = Prepared(
            weight: weight, gain: Float(1 / Double(weight.shape[1] * weight.shape[2] * weight.shape[3]).squareRoot()))
    }

    /// The FIR before a down-sampling conv: padding 2 and no stride for the 3x3 kernel (the conv
    /// strides), padding 1 and stride 2 for the 1x1 (conv2d_resample's two fast paths).
    var firAxis: FIRAxis {
        kernelSize == 1 ? FIRAxis(taps: filterTaps, pad0: 1, pad1: 1, down: 2) : FIRAxis(taps: filterTaps, pad0: 2, pad1: 2, down: 1)
    }

    final class Prepared: @unchecked Sendable {
        /// [O, I * k * k]: weight * weightGain (rounded as NVIDIA's `self.weight * self.weight_gain`).
        let scaled: Buffer
        /// [I, O * 9] for 3x3 layers: `scaled` flipped and transposed, the input gradient's operand.
        let flipped: Buffer?
        /// Winograd F(4x4, 3x3) transforms for stride-1 3x3 layers, made on first use: [36, O, I] of
        /// `scaled` (the forward's) and [36, I, O] of `flipped` (the input gradient's).
        private var winogradValues: (weight: Buffer, flipped: Buffer)?
        private let lock = NSLock()

        init(weight: Tensor, gain: Float) {
            let co = weight.shape[0], ci = weight.shape[1], kk = weight.shape[2] * weight.shape[3]
            let s = Buffer(count: co * ci * kk)
            weight.withUnsafeBufferPointer { w in
                for i in 0..<(co * ci * kk) { s.pointer[i] = w[i] * gain }
            }
            scaled = s
            if kk == 9 {
                let f = Buffer(count: ci * co * 9)
                flippedTransposedConv3x3Weight(s.pointer, outChannels: co, inChannels: ci, into: f.pointer)
                flipped = f
            } else {
                flipped = nil
            }
        }

        func winograd(outChannels co: Int, inChannels ci: Int) -> (weight: Buffer, flipped: Buffer) {
            lock.lock()
            defer { lock.unlock() }
            if let w = winogradValues { return w }
            let u = Buffer(count: 36 * co * ci), uf = Buffer(count: 36 * ci * co)
            winogradWeightTransform3x3(scaled.pointer, outChannels: co, inChannels: ci, into: u.pointer)
            winogradWeightTransform3x3(flipped!.pointer, outChannels: ci, inChannels: co, into: uf.pointer)
            winogradValues = (u, uf)
            return (u, uf)
        }
    }

    /// The layer's Winograd transforms (stride-1 3x3 layers only); hold the buffers while using them.
    var winogradWeights: (weight: Buffer, flipped: Buffer) { prepared.winograd(outChannels: outChannels, inChannels: inChannels) }

    /// y[o, j] <- clamp(act(y[o, j] + bias[o]) * act_gain) for channels `channels` and columns
    /// `columns` of y [O, ldy] (bias_act's order: bias, activation, gain, clamp). Eight lanes at a time;
    /// the same arithmetic as `activationReference`, element for element.
    func applyActivation(_ y: UnsafeMutablePointer<Float>, ldy: Int, channels: Range<Int>, columns: Range<Int>) {
        let g = activationGain
        let slope: Float = lrelu ? 0.2 : 1
        let c = clamp
        let gv = SIMD8<Float>(repeating: g), sv = SIMD8<Float>(repeating: slope)
        let hi = SIMD8<Float>(repeating: c), lo = SIMD8<Float>(repeating: -c), zero = SIMD8<Float>()
        for o in channels {
            let b = bias.map { $0[flat: o] } ?? 0
            let bv = SIMD8<Float>(repeating: b)
            let row = y + o * ldy
            var j = columns.lowerBound
            while j + 8 <= columns.upperBound {
                let v = loadFloats8(row + j) + bv
                let a = v.replacing(with: v * sv, where: .!(v .> zero)) * gv
                storeFloats8(a.clamped(lowerBound: lo, upperBound: hi), row + j)
                j += 8
            }
            while j < columns.upperBound {
                row[j] = activationReference(row[j] + b, gain: g, slope: slope, clamp: c)
                j += 1
            }
        }
    }

    /// One pre-activation v through bias_act's activation, gain and clamp.
    @inline(__always)
    func activationReference(_ v: Float, gain g: Float, slope: Float, clamp c: Float) -> Float {
        let a = (v > 0 ? v : v * slope) * g
        return min(max(a, -c), c)
    }

    /// g[j] *= the activation's derivative at output y[j]: 0 where the clamp held, else act_gain (times
    /// 0.2 for lrelu's negative side). Read from the output: lrelu and the gain keep the sign.
    func activationBackward(_ g: UnsafeMutablePointer<Float>, output y: UnsafePointer<Float>, count: Int) {
        let gainPositive = activationGain
        let gainNegative = activationGain * (lrelu ? 0.2 : 1)
        let c = clamp
        let pv = SIMD8<Float>(repeating: gainPositive), nv = SIMD8<Float>(repeating: gainNegative)
        let hi = SIMD8<Float>(repeating: c), lo = SIMD8<Float>(repeating: -c), zero = SIMD8<Float>()
        var j = 0
        while j + 8 <= count {
            let v = loadFloats8(y + j)
            var r = loadFloats8(g + j) * pv.replacing(with: nv, where: .!(v .> zero))
            r.replace(with: zero, where: (v .>= hi) .| (v .<= lo))
            storeFloats8(r, g + j)
            j += 8
        }
        while j < count {
            let v = y[j]
            g[j] = (v >= c || v <= -c) ? 0 : g[j] * (v > 0 ? gainPositive : gainNegative)
            j += 1
        }
    }
}
