import Foundation

/// NVIDIA's `SynthesisLayer`: a modulated 3x3 convolution (2x transposed up-sampling + [1,3,3,1] FIR
/// when `up`), demodulation, noise, bias, lrelu * sqrt(2), clamp to `conv_clamp`.
///
/// The styles scale the activations rather than the weights (NVIDIA's `fused_modconv=False` path,
/// mathematically the same as its fused one), so a whole batch shares the weight in one GEMM.
public struct SynthesisLayer: Sendable {
    public let name: String  // "synthesis.b8.conv0"
    public let inChannels: Int  // I
    public let outChannels: Int  // O
    public let resolution: Int  // R, the output grid
    public let up: Bool
    public let convClamp: Float?
    /// Which of the num_ws latents drives this layer.
    public let wIndex: Int

    public var weight: Tensor {  // [O, I, 3, 3]
        didSet { prepared = PreparedConvWeights() }
    }
    public var bias: Tensor  // [O]
    public var noiseStrength: Tensor  // []
    public var noiseConst: Tensor  // [R, R]
    public var affine: FullyConnectedLayer  // w_dim -> I
    /// The up-sampling FIR taps per axis, flipped, with gain 2 folded in (2D gain 4).
    public let upTaps: [Float]

    /// What the forward derives from `weight` alone, computed on first use; a new weight drops it.
    var prepared = PreparedConvWeights()
    /// [R, R], added to whatever noise map the layer is given (const, random or explicit; not to
    /// `.none`): a tuned scene's change to its frames' noise (`TunedScene.noiseOffsets`). Not part of
    /// NVIDIA's network; nil in every checkpoint.
    public var noiseOffset: Tensor?

    var inputResolution: Int { up ? resolution / 2 : resolution }
    /// The official name of the layer's noise buffer, "synthesis.b8.conv0.noise_const": what noise maps
    /// and noise offsets are keyed by.
    public var noiseName: String { name + ".noise_const" }
    /// Where a stand-alone generator file keeps layer `name`'s noise offset (not NVIDIA's):
    /// "synthesis.b8.conv0.noise_offset". The state dict writes it and the loader reads it.
    public static func noiseOffsetName(layer name: String) -> String { name + ".noise_offset" }

    /// The weight's derivatives; hold the returned object while using its buffers.
    var preparedWeights: PreparedConvWeights.Values { prepared.get(self) }
    /// The weight's Winograd transforms (plain layers); hold the returned object while using its buffers.
    var winogradWeights: PreparedConvWeights.WinogradValues { prepared.winograd(self) }
}

/// Weight-only derivatives of a `SynthesisLayer`, shared by the copies of a layer until its weight
/// changes (the weight's `didSet` replaces the whole object, so no copy ever sees stale values).
final class PreparedConvWeights: @unchecked Sendable {
    final class Values {
        /// [O, I]: the sum over the 9 taps of weight^2, for the demodulation.
        let weightSquares: Buffer
        /// [O * 9, I] for up layers: [(o, ky, kx), i] = weight[o, i, ky, kx], the transposed conv's GEMM operand.
        let transposedWeight: Buffer?
        /// [I, O * 9] for plain layers: the weight flipped and transposed (`flippedTransposedConv3x3Weight`),
        /// the backward's operand for the input gradient.
        let flippedWeight: Buffer?

        init(_ l: SynthesisLayer) {
            let co = l.outChannels
            let ci = l.inChannels
            weightSquares = Buffer(count: co * ci)
            transposedWeight = l.up ? Buffer(count: co * 9 * ci) : nil
            flippedWeight = l.up ? nil : Buffer(count: ci * co * 9)
            l.weight.withUnsafeBufferPointer { wb in
                let w = wb.baseAddress!
                for o in 0..<co {
                    for i in 0..<ci {
                        var acc: Float = 0
                        for k in 0..<9 { acc += w[(o * ci + i) * 9 + k] * w[(o * ci + i) * 9 + k] }
                        weightSquares.pointer[o * ci + i] = acc
                    }
                }
                if let wf = flippedWeight?.pointer { flippedTransposedConv3x3Weight(w, outChannels: co, inChannels: ci, into: wf) }
                if let wt = transposedWeight?.pointer {
                    for o in 0..<co { for i in 0..<ci { for k in 0..<9 { wt[(o * 9 + k) * ci + i] = w[(o * ci + i) * 9 + k] } } }
                }
            }
        }
    }

    /// The Winograd F(4x4, 3x3) transforms of a plain layer's weight, made only for layers that use
    /// them (4.5 times the weight's size each).
    final class WinogradValues {
        /// [36, O, I]: the forward's operand.
        let weight: Buffer
        /// [36, I, O]: the same for the flipped, transposed weight (the input gradient's).
        let flippedWeight: Buffer

        init(_ l: SynthesisLayer, flipped: Buffer) {
            let co = l.outChannels
            let ci = l.inChannels
            weight = Buffer(count: winogradPositions * co * ci)
            flippedWeight = Buffer(count: winogradPositions * co * ci)
            // The two transforms side by side: a tuner changes every weight at every step, and each
            // transform is a tenth of its step on one core (elementwise: the same bits on any split).
            let (weight, flippedWeight) = (self.weight, self.flippedWeight)
            l.weight.withUnsafeBufferPointer { w in
                let source = w.baseAddress!
                Parallel.split(2) { _, which in
                    for k in which {
                        if k == 0 {
                            winogradWeightTransform3x3(source, outChannels: co, inChannels: ci, into: weight.pointer)
                        } else {
                            winogradWeightTransform3x3(flipped.pointer, outChannels: ci, inChannels: co, into: flippedWeight.pointer)
                        }
                    }
                }
            }
        }
    }

    private let lock = NSLock()
    private var values: Values?
    private var winogradValues: WinogradValues?

    /// The values for `layer` (whose weight this object was made for), computed once.
    func get(_ layer: SynthesisLayer) -> Values {
        lock.lock()
        defer { lock.unlock() }
        if let v = values { return v }
        let v = Values(layer)
        values = v
        return v
    }

    /// The Winograd transforms for plain `layer`, computed once.
    func winograd(_ layer: SynthesisLayer) -> WinogradValues {
        let flipped = get(layer).flippedWeight!
        lock.lock()
        defer { lock.unlock() }
        if let v = winogradValues { return v }
        let v = WinogradValues(layer, flipped: flipped)
        winogradValues = v
        return v
    }
}

/// NVIDIA's `ToRGBLayer`: a 1x1 modulated convolution without demodulation, styles scaled by
/// 1 / sqrt(in_channels), bias, clamp to `conv_clamp`, no activation.
public struct ToRGBLayer: Sendable {
    public let name: String  // "synthesis.b8.torgb"
    public let inChannels: Int  // I
    public let imgChannels: Int  // C
    public let resolution: Int
    public let convClamp: Float?
    public let wIndex: Int

    public var weight: Tensor  // [C, I, 1, 1]
    public var bias: Tensor  // [C]
    public var affine: FullyConnectedLayer  // w_dim -> I

    var styleGain: Float { 1 / Float(inChannels).squareRoot() }
}

/// NVIDIA's `SynthesisBlock` with the 'skip' architecture.
public struct SynthesisBlock: Sendable {
    public let resolution: Int
    /// The learned 4x4 input of the first block: [C, 4, 4].
    public var const: Tensor?
    public var conv0: SynthesisLayer?
    public var conv1: SynthesisLayer
    public var torgb: ToRGBLayer
    /// Per-axis taps of `upsample2d` for the skip image (flipped, gain 2 per axis).
    public let imageUpTaps: [Float]
}
