/// The shape of a StyleGAN2 discriminator: what its tensors say, plus the two settings they cannot
/// (conv_clamp and the minibatch-std group size), from the file's metadata, NVIDIA's `_init_kwargs`
/// or the caller.
///
/// NVIDIA's `Discriminator(c_dim=0, img_resolution, img_channels, architecture='resnet',
/// channel_base, channel_max, conv_clamp, epilogue_kwargs={mbstd_group_size, mbstd_num_channels})`.
public struct DiscriminatorConfig: Sendable, Equatable, Codable {
    public var imgResolution: Int
    public var imgChannels: Int
    /// Channels at each resolution, imgResolution first, down to 4 (NVIDIA's `channels_dict`): block
    /// b<R> has channels(R) inside and channels(R / 2) out; the epilogue b4 has channels(4).
    public var channels: [Int]
    /// Clamp applied after each conv layer's activation (scaled by the layer's gain); nil for none.
    public var convClamp: Float?
    /// Samples per minibatch-std group, `min(G, N)` of a batch of N; nil = the whole batch.
    public var mbstdGroupSize: Int?
    /// Features the minibatch-std layer appends (0 = no such layer).
    public var mbstdChannels: Int

    public init(imgResolution: Int, imgChannels: Int, channels: [Int], convClamp: Float?, mbstdGroupSize: Int? = 4, mbstdChannels: Int = 1) {
        self.imgResolution = imgResolution
        self.imgChannels = imgChannels
        self.channels = channels
        self.convClamp = convClamp
        self.mbstdGroupSize = mbstdGroupSize
        self.mbstdChannels = mbstdChannels
    }

    /// NVIDIA's rule: channels(res) = min(channel_base / res, channel_max).
    public init(
        imgResolution: Int, imgChannels: Int = 3, channelBase: Int, channelMax: Int, convClamp: Float?,
        mbstdGroupSize: Int? = 4, mbstdChannels: Int = 1
    ) {
        self.init(
            imgResolution: imgResolution, imgChannels: imgChannels,
            channels: Self.resolutions(imgResolution).map { min(channelBase / $0, channelMax) }, convClamp: convClamp,
            mbstdGroupSize: mbstdGroupSize, mbstdChannels: mbstdChannels)
    }

    /// imgResolution, imgResolution / 2, ..., 4.
    static func resolutions(_ imgResolution: Int) -> [Int] {
        var out: [Int] = []
        var r = imgResolution
        while r >= 4 {
            out.append(r)
            r /= 2
        }
        return out
    }

    /// The blocks' resolutions, b<imgResolution> first, down to b8 (the epilogue b4 is not a block).
    public var blockResolutions: [Int] { Array(Self.resolutions(imgResolution).dropLast()) }

    public func channels(atResolution res: Int) -> Int {
        channels[imgResolution.trailingZeroBitCount - res.trailingZeroBitCount]
    }

    /// The group `MinibatchStdLayer` uses for a batch of `batch`: min(G, N), or N when G is nil.
    public func mbstdGroup(batch: Int) -> Int { min(mbstdGroupSize ?? batch, batch) }

    /// Whether the epilogue can run on a batch of `batch`: NVIDIA reshapes N into [G, N / G], so the
    /// group must divide the batch (a batch of 6 with groups of 4 fails there too).
    public func epilogueAccepts(batch: Int) -> Bool {
        mbstdChannels == 0 || batch % mbstdGroup(batch: batch) == 0
    }

    /// `{"img_resolution": 64, ...}` spaced as Python's json.dumps spaces it, in the key order of the
    /// bundled model's metadata; channel_base and channel_max only where the channels follow the rule.
    public var json: String {
        let base = (channels.first ?? 0) * imgResolution
        let most = channels.max() ?? 0
        let fits = zip(Self.resolutions(imgResolution), channels).allSatisfy { min(base / $0, most) == $1 }
        func number(_ v: Float?) -> String {
            guard let v else { return "null" }
            return v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : "\(v)"
        }
        var pairs = [("img_resolution", "\(imgResolution)"), ("img_channels", "\(imgChannels)"), ("architecture", "\"resnet\"")]
        if fits { pairs += [("channel_base", "\(base)"), ("channel_max", "\(most)")] }
        pairs += [
            ("conv_clamp", number(convClamp)), ("mbstd_group_size", mbstdGroupSize.map(String.init) ?? "null"),
            ("mbstd_num_channels", "\(mbstdChannels)"),
        ]
        return "{" + pairs.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }
}
