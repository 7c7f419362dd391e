import Foundation

/// A generator's configuration as checkpoints record it, and as `linstory convert` writes it into the
/// safetensors metadata key `config` (the layout of the fixtures' weights files).
public struct CheckpointConfig: Sendable, Equatable {
    public var zDim: Int
    public var wDim: Int
    public var imgResolution: Int
    public var imgChannels: Int
    public var mappingLayers: Int
    /// NVIDIA's channels are min(channel_base / resolution, channel_max); nil when the file does not
    /// say and the channels follow no such rule.
    public var channelBase: Int?
    public var channelMax: Int?
    public var convClamp: Float?
    public var mappingLRMultiplier: Float = 0.01

    public init(
        zDim: Int, wDim: Int, imgResolution: Int, imgChannels: Int, mappingLayers: Int,
        channelBase: Int?, channelMax: Int?, convClamp: Float?, mappingLRMultiplier: Float = 0.01
    ) {
        self.zDim = zDim
        self.wDim = wDim
        self.imgResolution = imgResolution
        self.imgChannels = imgChannels
        self.mappingLayers = mappingLayers
        self.channelBase = channelBase
        self.channelMax = channelMax
        self.convClamp = convClamp
        self.mappingLRMultiplier = mappingLRMultiplier
    }

    /// The config of a generator read from its tensors, with the channel rule recovered where one fits.
    public init(generator c: GeneratorConfig) {
        let base = (c.blockChannels.last ?? 0) * c.imgResolution
        let max = c.blockChannels.max() ?? 0
        let fits = zip(c.blockResolutions, c.blockChannels).allSatisfy { Swift.min(base / $0, max) == $1 }
        self.init(
            zDim: c.zDim, wDim: c.wDim, imgResolution: c.imgResolution, imgChannels: c.imgChannels,
            mappingLayers: c.mappingLayers, channelBase: fits ? base : nil, channelMax: fits ? max : nil,
            convClamp: c.convClamp, mappingLRMultiplier: c.mappingLRMultiplier)
    }

    /// `{"z_dim": 64, "w_dim": 64, ...}` spaced as Python's json.dumps spaces it, as in the fixtures.
    /// `mapping_lr_multiplier` is added only when it is not NVIDIA's 0.01, which readers assume.
    public var json: String {
        func number(_ v: Int?) -> String { v.map(String.init) ?? "null" }
        func number(_ v: Float?) -> String {
            guard let v else { return "null" }
            return v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : "\(v)"
        }
        var pairs = [
            ("z_dim", number(zDim)), ("w_dim", number(wDim)), ("img_resolution", number(imgResolution)),
            ("img_channels", number(imgChannels)), ("mapping_layers", number(mappingLayers)),
            ("channel_base", number(channelBase)), ("channel_max", number(channelMax)), ("conv_clamp", number(convClamp)),
        ]
        if mappingLRMultiplier != 0.01 { pairs.append(("mapping_lr_multiplier", "\(mappingLRMultiplier)")) }
        return "{" + pairs.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }
}
