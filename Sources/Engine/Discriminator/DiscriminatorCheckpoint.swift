import Foundation

/// A discriminator read from a file, with what the file said about its configuration.
///
/// Two kinds of file: safetensors with the official `state_dict` names (and, as linstory's bundled
/// model has it, a metadata `config` JSON: img_resolution, img_channels, architecture, channel_base,
/// channel_max, conv_clamp, mbstd_group_size, mbstd_num_channels), or an NVIDIA training snapshot
/// (`.pkl`), whose `D` carries its constructor arguments (`_init_kwargs`); the restricted unpickler
/// never runs the source code the pickle embeds. The tensors decide the architecture; whatever the
/// file also says must agree with them.
public struct DiscriminatorCheckpoint: Sendable {
    public let path: String
    /// "safetensors" or "NVIDIA pickle (D)".
    public let format: String
    public let discriminator: Discriminator
    /// Whether the file recorded conv_clamp (it is not part of the state_dict).
    public let convClampRecorded: Bool
    public let metadata: [String: String]

    /// Loads the discriminator at `path`. `defaultConvClamp` is used when the file does not record
    /// conv_clamp (a bare state_dict); `defaultGroupSize` when it does not record the minibatch-std
    /// group size (NVIDIA's default 4).
    public static func load(path: String, defaultConvClamp: Float? = nil, defaultGroupSize: Int? = 4) throws -> DiscriminatorCheckpoint {
        guard FileManager.default.fileExists(atPath: path) else { throw LinstoryError(.notFound, file: path, "no such file") }
        try BLAS.load()
        switch try CheckpointFormat.of(path: path) {
        case .safetensors:
            return try loadSafeTensors(path: path, defaultConvClamp: defaultConvClamp, defaultGroupSize: defaultGroupSize)
        case .nvidiaPickle:
            return try loadPickle(path: path, defaultConvClamp: defaultConvClamp, defaultGroupSize: defaultGroupSize)
        case .torchSave:
            throw LinstoryError(
                .unsupported, file: path,
                "is a torch.save file; linstory reads discriminators from NVIDIA pickles (.pkl) or safetensors with the official names")
        }
    }

    private static func loadSafeTensors(path: String, defaultConvClamp: Float?, defaultGroupSize: Int?) throws -> DiscriminatorCheckpoint {
        let file = try SafeTensorsFile(path: path)
        var tensors: [String: Tensor] = [:]
        for name in file.names { tensors[name] = try file.tensor(name) }
        var settings = Settings()
        if let json = file.metadata["config"] {
            guard let data = json.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw LinstoryError(.corrupt, file: path, "metadata 'config' is not a JSON object")
            }
            func int(_ key: String) throws -> Int?? {
                guard let value = object[key] else { return nil }
                if value is NSNull { return .some(nil) }
                guard let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded(), abs(number.doubleValue) < 1e15 else {
                    throw LinstoryError(.corrupt, file: path, "metadata 'config' has \(key) \(value), not an integer")
                }
                return .some(number.intValue)
            }
            if let value = object["architecture"] {
                settings.architecture = value as? String ?? "\(value)"
            }
            if let value = object["conv_clamp"] {
                settings.convClampRecorded = true
                if !(value is NSNull) {
                    guard let number = value as? NSNumber else {
                        throw LinstoryError(.corrupt, file: path, "metadata 'config' has conv_clamp \(value), not a number")
                    }
                    settings.convClamp = number.floatValue
                }
            }
            if let g = try int("mbstd_group_size") { settings.groupSize = .some(g) }
            settings.features = try int("mbstd_num_channels") ?? nil
            settings.imgResolution = try int("img_resolution") ?? nil
            settings.imgChannels = try int("img_channels") ?? nil
            settings.channelBase = try int("channel_base") ?? nil
            settings.channelMax = try int("channel_max") ?? nil
        }
        let d = try settings.build(tensors, file: path, defaultConvClamp: defaultConvClamp, defaultGroupSize: defaultGroupSize, source: "metadata 'config'")
        return DiscriminatorCheckpoint(
            path: path, format: "safetensors", discriminator: d, convClampRecorded: settings.convClampRecorded, metadata: file.metadata)
    }

    private static func loadPickle(path: String, defaultConvClamp: Float?, defaultGroupSize: Int?) throws -> DiscriminatorCheckpoint {
        let pickle = try TorchPickle(pickle: AtomicFile.read(path), name: path)
        guard let top = pickle.dict(pickle.root) else {
            throw LinstoryError(.wrongFormat, file: path, "pickle holds \(pickle.describe(pickle.root)), not an NVIDIA snapshot dict")
        }
        guard let d = top["D"], case .instance(let instance)? = pickle.object(d) else {
            let keys = top.keys.compactMap { if case .string(let s) = $0 { "'\(s)'" } else { nil } }
            throw LinstoryError(.notFound, file: path, "no discriminator 'D' in the pickle (it has \(keys.joined(separator: ", ")))")
        }
        let tensors = try NetworkSnapshot.stateDict(of: d, in: pickle, what: "D")
        let settings = try Settings(kwargsOf: instance, in: pickle)
        let net = try settings.build(tensors, file: path, defaultConvClamp: defaultConvClamp, defaultGroupSize: defaultGroupSize, source: "D's _init_kwargs")
        var metadata = ["format": "stylegan2-ada-pytorch D state_dict", "config": net.config.json, "source": "NVIDIA pickle (D)"]
        if settings.numFP16Res > 0 { metadata["num_fp16_res"] = "\(settings.numFP16Res) (run in float32 here)" }
        return DiscriminatorCheckpoint(
            path: path, format: "NVIDIA pickle (D)", discriminator: net, convClampRecorded: true, metadata: metadata)
    }

    /// What a file says about the configuration beside its tensors; nil where it says nothing.
    struct Settings {
        var architecture: String?
        var convClamp: Float?
        var convClampRecorded = false
        /// .some(nil) records "the whole batch".
        var groupSize: Int??
        var features: Int?
        var imgResolution: Int?
        var imgChannels: Int?
        var channelBase: Int?
        var channelMax: Int?
        var numFP16Res = 0

        init() {}

        /// NVIDIA's `Discriminator(c_dim, img_resolution, img_channels, architecture='resnet',
        /// channel_base=32768, channel_max=512, num_fp16_res=0, conv_clamp=None, cmap_dim=None,
        /// block_kwargs={}, mapping_kwargs={}, epilogue_kwargs={})`, by keyword or position.
        init(kwargsOf instance: PickleInstance, in pickle: TorchPickle) throws {
            func fail(_ kind: LinstoryError.Kind, _ problem: String) -> LinstoryError { LinstoryError(kind, file: pickle.name, "D: \(problem)") }
            guard let state = pickle.dict(instance.state) else { throw fail(.corrupt, "not a persistent network object") }
            let kwargs = state["_init_kwargs"].flatMap { pickle.dict($0) } ?? PickleDict()
            var positional: [PickleValue] = []
            if let args = state["_init_args"], case .tuple(let items)? = pickle.object(args) { positional = items }
            let order = [
                "c_dim", "img_resolution", "img_channels", "architecture", "channel_base", "channel_max", "num_fp16_res", "conv_clamp",
                "cmap_dim", "block_kwargs", "mapping_kwargs", "epilogue_kwargs",
            ]
            func argument(_ key: String) -> PickleValue? {
                if let v = kwargs[key] { return v }
                guard let i = order.firstIndex(of: key), i < positional.count else { return nil }
                return positional[i]
            }
            func int(_ v: PickleValue?, _ key: String) throws -> Int?? {
                switch v {
                case nil: return nil
                case .none?: return .some(nil)
                case .int(let i)?: return .some(i)
                case .float(let d)? where d == d.rounded() && abs(d) < 1e15: return .some(Int(d))
                default: throw fail(.corrupt, "_init_kwargs '\(key)' is \(v.map { pickle.describe($0) } ?? "missing"), not an int")
                }
            }
            func string(_ v: PickleValue?) -> String? {
                guard let v else { return nil }
                if case .string(let s) = v { return s }
                return pickle.describe(v)
            }
            if let c = try int(argument("c_dim"), "c_dim"), let c, c != 0 {
                throw fail(.unsupported, "a class-conditional discriminator (c_dim \(c)) is not supported")
            }
            architecture = string(argument("architecture"))
            imgResolution = try int(argument("img_resolution"), "img_resolution") ?? nil
            imgChannels = try int(argument("img_channels"), "img_channels") ?? nil
            channelBase = try int(argument("channel_base"), "channel_base") ?? 32768
            channelMax = try int(argument("channel_max"), "channel_max") ?? 512
            numFP16Res = try int(argument("num_fp16_res"), "num_fp16_res").flatMap { $0 } ?? 0
            convClampRecorded = true
            switch argument("conv_clamp") {
            case .int(let i)?: convClamp = Float(i)
            case .float(let d)?: convClamp = Float(d)
            case .none?, nil: convClamp = nil
            case let v?: throw fail(.corrupt, "_init_kwargs 'conv_clamp' is \(pickle.describe(v)), not a number")
            }
            let blockKwargs = argument("block_kwargs").flatMap { pickle.dict($0) } ?? PickleDict()
            let epilogueKwargs = argument("epilogue_kwargs").flatMap { pickle.dict($0) } ?? PickleDict()
            for (what, dict) in [("block_kwargs", blockKwargs), ("epilogue_kwargs", epilogueKwargs)] {
                if let act = string(dict["activation"]), act != "lrelu" {
                    throw fail(.unsupported, "\(what) activation '\(act)' is not supported (only 'lrelu', NVIDIA's default)")
                }
            }
            groupSize = try int(epilogueKwargs["mbstd_group_size"], "epilogue_kwargs.mbstd_group_size") ?? .some(4)
            features = try int(epilogueKwargs["mbstd_num_channels"], "epilogue_kwargs.mbstd_num_channels") ?? 1
        }

        /// The network from `tensors`, checked against everything recorded here.
        func build(
            _ tensors: [String: Tensor], file: String, defaultConvClamp: Float?, defaultGroupSize: Int?, source: String
        ) throws -> Discriminator {
            if let a = architecture, a != "resnet" {
                throw LinstoryError(.unsupported, file: file, "architecture '\(a)' is not supported (only 'resnet', NVIDIA's default)")
            }
            let group: Int? = groupSize ?? defaultGroupSize
            let d = try DiscriminatorLoader.build(
                tensors: tensors, convClamp: convClampRecorded ? convClamp : defaultConvClamp, mbstdGroupSize: group, file: file)
            let c = d.config
            var checks = [
                ("img_resolution", imgResolution, c.imgResolution), ("img_channels", imgChannels, c.imgChannels),
                ("mbstd_num_channels", features, c.mbstdChannels),
            ]
            if let base = channelBase, let most = channelMax {
                for (res, ch) in zip(DiscriminatorConfig.resolutions(c.imgResolution), c.channels) {
                    checks.append(("channels at \(res) (min(channel_base / \(res), channel_max))", min(base / res, most), ch))
                }
            }
            for (what, recorded, actual) in checks {
                if let recorded, recorded != actual {
                    throw LinstoryError(.mismatch, file: file, "\(source) says \(what) \(recorded), but the tensors have \(actual)")
                }
            }
            return d
        }
    }
}

extension Discriminator {
    /// The discriminator in a safetensors file (official names) or an NVIDIA `.pkl` (its `D`); see
    /// `DiscriminatorCheckpoint.load`. `defaultConvClamp` applies when the file records none.
    public static func load(path: String, defaultConvClamp: Float? = nil) throws -> Discriminator {
        try DiscriminatorCheckpoint.load(path: path, defaultConvClamp: defaultConvClamp).discriminator
    }
}
