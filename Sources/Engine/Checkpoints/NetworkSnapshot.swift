import Foundation

/// An NVIDIA training snapshot (`network-snapshot-*.pkl` from stylegan2-ada-pytorch, or stylegan3 with
/// its stylegan2 networks): a plain pickle of `{'G', 'D', 'G_ema', 'augment_pipe', 'training_set_kwargs'}`
/// whose networks are NVIDIA persistent objects. Read with the restricted unpickler: the source code
/// each object carries (`module_src`) is neither run nor read.
public struct NetworkSnapshot: Sendable {
    public let path: String
    /// G_ema's configuration, from its `_init_kwargs`.
    public let config: CheckpointConfig
    /// G_ema's `state_dict()` under the official names (`mapping.fc0.weight`, `synthesis.b4.const`, ...).
    public let generatorTensors: [String: Tensor]
    /// D's `state_dict()` (`b64.fromrgb.weight`, ..., `b4.out.bias`); nil when the pickle has no D or
    /// it was not asked for.
    public let discriminatorTensors: [String: Tensor]?

    /// Modules nest a handful of levels deep; anything deeper is not a network.
    static let maxModuleDepth = 32
    static let maxModules = 100_000

    /// `discriminator: false` skips decoding D, which running the generator does not need.
    public init(path: String, discriminator: Bool = true) throws {
        try self.init(bytes: AtomicFile.read(path), name: path, discriminator: discriminator)
    }

    public init(bytes: [UInt8], name: String, discriminator: Bool = true) throws {
        let pickle = try TorchPickle(pickle: bytes, name: name)
        guard let top = pickle.dict(pickle.root) else {
            throw LinstoryError(.wrongFormat, file: name, "pickle holds \(pickle.describe(pickle.root)), not an NVIDIA snapshot dict")
        }
        guard let gEma = top["G_ema"] else {
            let keys = top.keys.compactMap { if case .string(let s) = $0 { s } else { nil } }
            throw LinstoryError(.notFound, file: name, "no 'G_ema' in the pickle (it has \(keys.map { "'\($0)'" }.joined(separator: ", ")))")
        }
        path = name
        generatorTensors = try Self.stateDict(of: gEma, in: pickle, what: "G_ema")
        if generatorTensors["synthesis.input.affine.weight"] != nil {
            throw LinstoryError(.unsupported, file: name, "G_ema is a StyleGAN3 (alias-free) generator; linstory runs StyleGAN2 generators only")
        }
        config = try Self.config(of: gEma, in: pickle)
        if discriminator, let d = top["D"], case .instance? = pickle.object(d) {
            discriminatorTensors = try Self.stateDict(of: d, in: pickle, what: "D")
        } else {
            discriminatorTensors = nil
        }
    }

    /// The state_dict of a persistent network: the parameters and persistent buffers of it and of every
    /// submodule, dotted as `Module.state_dict()` names them. Walked with an explicit stack.
    public static func stateDict(of network: PickleValue, in pickle: TorchPickle, what: String) throws -> [String: Tensor] {
        func fail(_ kind: LinstoryError.Kind, _ problem: String) -> LinstoryError {
            LinstoryError(kind, file: pickle.name, "\(what): \(problem)")
        }
        var out: [String: Tensor] = [:]
        var pending: [(module: PickleValue, prefix: String, depth: Int)] = [(network, "", 0)]
        var visited = 0
        while let (module, prefix, depth) = pending.popLast() {
            visited += 1
            guard visited <= maxModules else { throw fail(.tooLarge, "has more than \(maxModules) modules") }
            guard depth <= maxModuleDepth else { throw fail(.tooLarge, "modules nest deeper than \(maxModuleDepth) levels") }
            let moduleName = prefix.isEmpty ? what : "module '\(prefix.dropLast())'"
            guard case .instance(let instance)? = pickle.object(module) else {
                throw fail(.corrupt, "\(moduleName) is \(pickle.describe(module)), not a persistent network object")
            }
            guard let state = pickle.dict(instance.state) else { throw fail(.corrupt, "\(moduleName) has no state dict") }
            var nonPersistent = Set<String>()
            if let set = state["_non_persistent_buffers_set"], case .set(let names)? = pickle.object(set) {
                for case .string(let n) in names { nonPersistent.insert(n) }
            }
            for field in ["_parameters", "_buffers"] {
                guard let value = state[field] else { continue }
                guard let entries = pickle.dict(value) else { throw fail(.corrupt, "\(moduleName).\(field) is \(pickle.describe(value))") }
                for (key, entry) in zip(entries.keys, entries.values) {
                    guard case .string(let k) = key else { throw fail(.corrupt, "\(moduleName).\(field) has a non-string key") }
                    if case .none = entry { continue }
                    if field == "_buffers" && nonPersistent.contains(k) { continue }
                    guard case .tensor(let ref)? = pickle.object(entry) else {
                        throw fail(.corrupt, "'\(prefix)\(k)' is \(pickle.describe(entry)), not a tensor")
                    }
                    guard out[prefix + k] == nil else { throw fail(.corrupt, "two tensors named '\(prefix)\(k)'") }
                    out[prefix + k] = try pickle.tensor(ref, what: "\(what) tensor '\(prefix)\(k)'")
                }
            }
            if let value = state["_modules"] {
                guard let children = pickle.dict(value) else { throw fail(.corrupt, "\(moduleName)._modules is \(pickle.describe(value))") }
                for (key, child) in zip(children.keys, children.values).reversed() {
                    guard case .string(let k) = key else { throw fail(.corrupt, "\(moduleName)._modules has a non-string key") }
                    if case .none = child { continue }
                    pending.append((child, prefix + k + ".", depth + 1))
                }
            }
        }
        return out
    }

    /// G's constructor arguments: `Generator(z_dim, c_dim, w_dim, img_resolution, img_channels,
    /// mapping_kwargs={}, synthesis_kwargs={})`, by keyword or by position, with NVIDIA's defaults.
    static func config(of network: PickleValue, in pickle: TorchPickle) throws -> CheckpointConfig {
        func fail(_ kind: LinstoryError.Kind, _ problem: String) -> LinstoryError {
            LinstoryError(kind, file: pickle.name, "G_ema: \(problem)")
        }
        guard case .instance(let instance)? = pickle.object(network), let state = pickle.dict(instance.state) else {
            throw fail(.corrupt, "not a persistent network object")
        }
        let kwargs = state["_init_kwargs"].flatMap { pickle.dict($0) } ?? PickleDict()
        var positional: [PickleValue] = []
        if let args = state["_init_args"], case .tuple(let items)? = pickle.object(args) { positional = items }
        let order = ["z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "mapping_kwargs", "synthesis_kwargs"]
        func argument(_ key: String) -> PickleValue? {
            if let v = kwargs[key] { return v }
            guard let i = order.firstIndex(of: key), i < positional.count else { return nil }
            return positional[i]
        }
        func int(_ v: PickleValue?, _ key: String, default value: Int? = nil) throws -> Int {
            switch v {
            case .int(let i)?: return i
            case .float(let d)? where d == d.rounded() && abs(d) < 1e15: return Int(d)
            case nil where value != nil: return value ?? 0
            default: throw fail(.corrupt, "_init_kwargs '\(key)' is \(v.map { pickle.describe($0) } ?? "missing"), not an int")
            }
        }
        func number(_ v: PickleValue?, _ key: String) throws -> Float? {
            switch v {
            case .int(let i)?: return Float(i)
            case .float(let d)?: return Float(d)
            case .none?, nil: return nil
            default: throw fail(.corrupt, "_init_kwargs '\(key)' is \(v.map { pickle.describe($0) } ?? "missing"), not a number")
            }
        }
        let cDim = try int(argument("c_dim"), "c_dim", default: 0)
        guard cDim == 0 else { throw fail(.unsupported, "a class-conditional generator (c_dim \(cDim)) is not supported") }
        let mapping = argument("mapping_kwargs").flatMap { pickle.dict($0) } ?? PickleDict()
        let synthesis = argument("synthesis_kwargs").flatMap { pickle.dict($0) } ?? PickleDict()
        if let arch = synthesis["architecture"], arch != .string("skip") {
            let named = if case .string(let s) = arch { "'\(s)'" } else { pickle.describe(arch) }
            throw fail(.unsupported, "synthesis architecture \(named) is not supported (only 'skip', NVIDIA's default)")
        }
        return CheckpointConfig(
            zDim: try int(argument("z_dim"), "z_dim"), wDim: try int(argument("w_dim"), "w_dim"),
            imgResolution: try int(argument("img_resolution"), "img_resolution"),
            imgChannels: try int(argument("img_channels"), "img_channels"),
            mappingLayers: try int(mapping["num_layers"], "mapping_kwargs.num_layers", default: 8),
            channelBase: try int(synthesis["channel_base"], "synthesis_kwargs.channel_base", default: 32768),
            channelMax: try int(synthesis["channel_max"], "synthesis_kwargs.channel_max", default: 512),
            convClamp: try number(synthesis["conv_clamp"], "synthesis_kwargs.conv_clamp"),
            mappingLRMultiplier: try number(mapping["lr_multiplier"], "mapping_kwargs.lr_multiplier") ?? 0.01)
    }
}
