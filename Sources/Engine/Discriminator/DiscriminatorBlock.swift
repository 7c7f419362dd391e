/// NVIDIA's `DiscriminatorBlock`, architecture 'resnet': at resolution R with T channels inside and O
/// out, x [N, T, R, R] -> [N, O, R / 2, R / 2] as skip(x, gain sqrt(0.5)) + conv1(conv0(x), gain
/// sqrt(0.5)). The first block (in_channels 0) makes its x from the image with `fromrgb`.
public struct DiscriminatorBlock: Sendable {
    public let resolution: Int  // R
    /// 1x1, lrelu: image channels -> T; the first block only.
    public var fromrgb: Conv2dLayer?
    /// 3x3, lrelu: T -> T.
    public var conv0: Conv2dLayer
    /// 3x3, down 2, lrelu, gain sqrt(0.5): T -> O.
    public var conv1: Conv2dLayer
    /// 1x1, down 2, no bias, linear, gain sqrt(0.5), no clamp: T -> O.
    public var skip: Conv2dLayer

    public var name: String { "b\(resolution)" }
    public var tmpChannels: Int { conv0.inChannels }  // T
    public var outChannels: Int { conv1.outChannels }  // O
    /// The FIR-filtered grid conv1 strides over: R + 1.
    var filteredResolution: Int { conv1.firAxis.outputLength(resolution) }

    public init(resolution: Int, fromrgb: Conv2dLayer?, conv0: Conv2dLayer, conv1: Conv2dLayer, skip: Conv2dLayer) {
        self.resolution = resolution
        self.fromrgb = fromrgb
        self.conv0 = conv0
        self.conv1 = conv1
        self.skip = skip
    }
}

/// NVIDIA's `DiscriminatorEpilogue` b4 (c_dim 0, 'resnet'): x [N, C, 4, 4] -> minibatch std
/// [N, C + F, 4, 4] -> conv (3x3, lrelu) [N, C, 4, 4] -> fc (lrelu) [N, C] -> out (linear) [N, 1].
public struct DiscriminatorEpilogue: Sendable {
    public let mbstd: MinibatchStdLayer
    public var conv: Conv2dLayer
    /// C * 16 -> C, lrelu; its input is conv's output flattened as NVIDIA's x.flatten(1) ([N, C * 4 * 4]).
    public var fc: FullyConnectedLayer
    /// C -> 1, linear.
    public var out: FullyConnectedLayer

    public var channels: Int { conv.outChannels }  // C
    public let resolution = 4

    public init(mbstd: MinibatchStdLayer, conv: Conv2dLayer, fc: FullyConnectedLayer, out: FullyConnectedLayer) {
        self.mbstd = mbstd
        self.conv = conv
        self.fc = fc
        self.out = out
    }
}
