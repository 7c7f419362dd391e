/// The shape of a StyleGAN2 generator, read from its tensors (never assumed).
public struct GeneratorConfig: Sendable, Equatable, Codable {
    public var zDim: Int
    public var wDim: Int
    public var imgResolution: Int
    public var imgChannels: Int
    public var mappingLayers: Int
    /// Hidden widths of the mapping network, fc0's input first: [z_dim, ..., w_dim].
    public var mappingFeatures: [Int]
    /// Output channels of each synthesis block, for resolutions 4, 8, ..., imgResolution.
    public var blockChannels: [Int]
    /// Clamp applied after each layer's activation; nil when the checkpoint has none.
    public var convClamp: Float?
    /// The mapping network's learning-rate multiplier (applied at run time to weight and bias).
    public var mappingLRMultiplier: Float

    public var blockResolutions: [Int] { blockChannels.indices.map { 4 << $0 } }
    /// b4 has conv1 + torgb; every later block conv0 + conv1; a block's torgb shares the next conv0's w.
    public var numWs: Int { 2 * blockChannels.count }

    public func channels(atResolution res: Int) -> Int {
        blockChannels[res.trailingZeroBitCount - 2]
    }
}

/// How noise inputs are fed to the synthesis layers (NVIDIA's `noise_mode`).
public enum NoiseMode: Sendable, Equatable {
    /// The checkpoint's `noise_const` buffers.
    case const
    /// No noise at all.
    case none
    /// Fresh Gaussian noise per sample from a seeded generator (does not match PyTorch's draws).
    case random(seed: UInt64)
    /// Caller-supplied maps, one per noise layer in `SynthesisNetwork.noiseLayerNames` order,
    /// each [1, R, R] (shared by the batch) or [N, R, R] (one per sample).
    case explicit([Tensor])
}
