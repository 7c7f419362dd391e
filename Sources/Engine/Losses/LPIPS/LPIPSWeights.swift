/// The weights of LPIPS with the VGG trunk (Zhang et al. 2018; the `lpips` package, net='vgg',
/// version 0.1), from the two files a user has:
/// - torchvision's VGG16 `state_dict` (`vgg16-397923af.pth`): `features.{0,2,5,7,10,12,14,17,19,21,24,26,28}`
///   `.weight` [O, I, 3, 3] and `.bias` [O], the 13 convolutions up to relu5_3. The classifier's keys
///   (and anything else outside `features.`) are not used; any other `features.` key (a batch-norm
///   VGG's, say) is an error, since the trunk would not be the one LPIPS was calibrated on;
/// - the lpips package's linear layers (`lpips/weights/v0.1/vgg.pth`): `lin{0...4}.model.1.weight`
///   [1, C, 1, 1] (`model.0` is a dropout, the identity in eval mode; no bias).
///
/// Both are torch.save files (zip, or the legacy stream both of those are in), read by the
/// restricted unpickler: no pickle code runs. Every problem is a one-line `LinstoryError` naming the
/// file: missing tensor, wrong shape, a non-finite value, not a torch.save state_dict.
public struct LPIPSWeights: Sendable {
    /// One 3x3 convolution of the trunk.
    public struct Convolution: Sendable {
        public let weight: Tensor  // [O, I, 3, 3]
        public let bias: Tensor  // [O]
        public var inChannels: Int { weight.shape[1] }
        public var outChannels: Int { weight.shape[0] }
    }

    /// torchvision's `features` indices of VGG16's 13 convolutions (ReLUs and pools between them).
    public static let featureIndices = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
    /// Their output channels in VGG16 (configuration "D").
    public static let standardWidths = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    /// The convolutions (0-based among the 13) whose ReLU outputs LPIPS compares: relu1_2, relu2_2,
    /// relu3_3, relu4_3, relu5_3. Linear layer k weighs tap k's channels.
    public static let taps = [1, 3, 6, 9, 12]
    /// The convolutions that a 2x2 max pool precedes (features.4, 9, 16, 23; the fifth pool,
    /// features.30, comes after relu5_3 and is not used).
    public static let pooledBefore = [2, 4, 7, 10]

    public let convolutions: [Convolution]  // 13, features.0 ... features.28
    public let linear: [Tensor]  // 5, [C_k]: lin{k}.model.1.weight flattened
    /// The channels of each tap, [64, 128, 256, 512, 512] for VGG16.
    public var tapChannels: [Int] { Self.taps.map { convolutions[$0].outChannels } }

    /// Reads both files (see the type's comment).
    public init(vggPath: String, linPath: String) throws {
        try self.init(
            vgg: Self.stateDict(path: vggPath), lin: Self.stateDict(path: linPath), vggFile: vggPath, linFile: linPath)
    }

    /// The weights from two name -> tensor dictionaries, as torch's `state_dict()`s name them; `vggFile`
    /// and `linFile` name them in errors. With `standardWidths` false any channel counts are taken
    /// (each convolution's input must be the previous one's output, the first's 3, and linear layer k
    /// must match tap k): a narrow network with VGG16's structure, for tests.
    public init(
        vgg: [String: Tensor], lin: [String: Tensor], vggFile: String, linFile: String, standardWidths: Bool = true
    ) throws {
        let known = Set(Self.featureIndices.flatMap { ["features.\($0).weight", "features.\($0).bias"] })
        for key in vgg.keys.sorted() where key.hasPrefix("features.") && !known.contains(key) {
            throw LinstoryError(
                .mismatch, file: vggFile,
                "unexpected tensor '\(key)': not torchvision's plain VGG16 (a batch-norm VGG, or another depth?)")
        }
        func take(_ dict: [String: Tensor], _ key: String, _ shape: [Int], file: String, hint: String) throws -> Tensor {
            guard let t = dict[key] else { throw LinstoryError(.notFound, file: file, "missing tensor '\(key)' (\(hint))") }
            guard t.shape == shape else {
                throw LinstoryError(.mismatch, file: file, "tensor '\(key)' has shape \(t.shape), expected \(shape)")
            }
            if let bad = t.withUnsafeBufferPointer({ $0.first { !$0.isFinite } }) {
                throw LinstoryError(.corrupt, file: file, "tensor '\(key)' holds \(bad)")
            }
            return t
        }

        let vggHint = "not torchvision's VGG16 state_dict?"
        var convolutions: [Convolution] = []
        var inChannels = 3
        for (j, index) in Self.featureIndices.enumerated() {
            let key = "features.\(index).weight"
            let outChannels: Int
            if standardWidths {
                outChannels = Self.standardWidths[j]
            } else {
                guard let t = vgg[key] else { throw LinstoryError(.notFound, file: vggFile, "missing tensor '\(key)' (\(vggHint))") }
                guard t.rank == 4, t.shape[0] >= 1 else {
                    throw LinstoryError(.mismatch, file: vggFile, "tensor '\(key)' has shape \(t.shape), expected [O, \(inChannels), 3, 3]")
                }
                outChannels = t.shape[0]
            }
            let weight = try take(vgg, key, [outChannels, inChannels, 3, 3], file: vggFile, hint: vggHint)
            let bias = try take(vgg, "features.\(index).bias", [outChannels], file: vggFile, hint: vggHint)
            convolutions.append(Convolution(weight: weight, bias: bias))
            inChannels = outChannels
        }

        var linear: [Tensor] = []
        for (k, tap) in Self.taps.enumerated() {
            let c = convolutions[tap].outChannels
            let t = try take(
                lin, "lin\(k).model.1.weight", [1, c, 1, 1], file: linFile,
                hint: "not the lpips package's linear layers for VGG, lpips/weights/v0.1/vgg.pth?")
            linear.append(t.reshaped([c]))
        }
        self.convolutions = convolutions
        self.linear = linear
    }

    /// A torch.save file holding a state_dict (a dict of names to tensors), as float32 tensors by name.
    public static func stateDict(path: String) throws -> [String: Tensor] {
        let pickle = try TorchPickle(torchSave: AtomicFile.read(path), name: path)
        return try pickle.stateDict(pickle.root, what: "the file")
    }
}
