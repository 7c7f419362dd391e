/// A checkpoint's unpickled values together with where its storages' bytes lie: all that is needed
/// to turn the tensors it references into `Tensor`s. Made from a plain pickle (NVIDIA's network
/// snapshots, whose storages are nested legacy streams) or from a `torch.save` file, zip or legacy.
public struct TorchPickle: Sendable {
    /// Names the file in errors.
    public let name: String
    public let root: PickleValue
    public let objects: [PickleObject]
    /// The zip archive of a zip-format torch.save file, and the folder inside it holding `data.pkl`.
    private let archive: ZipArchive?
    private let archivePrefix: String

    /// A plain pickle, as `pickle.dump` writes it.
    public init(pickle bytes: [UInt8], name: String) throws {
        var machine = PickleMachine(
            bytes: bytes[...], name: name, persistence: .forbidden, allowsNestedStreams: true,
            budget: PickleBudget(forFileOf: bytes.count))
        root = try machine.load()
        objects = machine.objects
        self.name = name
        archive = nil
        archivePrefix = ""
    }

    /// A `torch.save` file: the zip format (torch 1.6 and later) or the legacy stream before it.
    public init(torchSave bytes: [UInt8], name: String) throws {
        self.name = name
        let budget = PickleBudget(forFileOf: bytes.count)
        if TorchLegacyStream.looksLike(bytes[...]) {
            (root, objects) = try TorchLegacyStream.read(bytes[...], name: name, budget: budget)
            archive = nil
            archivePrefix = ""
            return
        }
        guard bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) else {
            throw LinstoryError(.wrongFormat, file: name, "not a torch.save file (neither a zip archive nor a legacy torch stream)")
        }
        let zip = try ZipArchive(data: bytes, name: name)
        // torch names the archive's one folder after the file ("archive/" in recent versions).
        let pickles = zip.entries.map(\.name).filter { $0.hasSuffix("/data.pkl") && $0.split(separator: "/", omittingEmptySubsequences: false).count == 2 }
        guard pickles.count == 1, let pickleName = pickles.first else {
            throw LinstoryError(.wrongFormat, file: name, pickles.isEmpty ? "zip archive has no '<folder>/data.pkl' (not a torch.save file?)"
                : "zip archive has \(pickles.count) data.pkl files (not a torch.save file?)")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        if zip.entry(named: prefix + "byteorder") != nil {
            let order = try zip.data(for: prefix + "byteorder")
            guard order == Array("little".utf8) else {
                throw LinstoryError(.unsupported, file: name, "was saved big-endian ('\(String(decoding: order.prefix(16), as: UTF8.self))'), which linstory does not read")
            }
        }
        let pickle = try zip.data(for: pickleName)
        var machine = PickleMachine(
            bytes: pickle[...], name: name, persistence: .zipArchive, allowsNestedStreams: false, budget: budget)
        root = try machine.load()
        objects = machine.objects
        archive = zip
        archivePrefix = prefix
    }

    // MARK: - Reading values

    public func object(_ v: PickleValue) -> PickleObject? {
        guard case .object(let k) = v, objects.indices.contains(k) else { return nil }
        return objects[k]
    }

    public func dict(_ v: PickleValue) -> PickleDict? {
        guard case .dict(let d)? = object(v) else { return nil }
        return d
    }

    public func describe(_ v: PickleValue) -> String { object(v)?.kindName ?? v.kindName }

    /// The float32 values of a tensor; `what` names it in errors ("tensor 'mapping.fc0.weight'").
    public func tensor(_ ref: TorchTensorReference, what: String) throws -> Tensor {
        guard objects.indices.contains(ref.storage), case .storage(let storage) = objects[ref.storage] else {
            throw LinstoryError(.corrupt, file: name, "\(what) has no storage")
        }
        guard storage.dtype.isFloatingPoint else {
            throw LinstoryError(.unsupported, file: name, "\(what) has dtype \(storage.dtype.rawValue), not floating point")
        }
        let (needed, overflow) = storage.count.multipliedReportingOverflow(by: storage.dtype.byteSize)
        func check(_ count: Int, _ place: String) throws {
            guard !overflow, count == needed else {
                throw LinstoryError(
                    .corrupt, file: name, "\(what): its storage \(place)holds \(count) bytes, but is recorded as \(storage.count) "
                        + "\(storage.dtype.rawValue) elements")
            }
        }
        switch storage.source {
        case .bytes(let data):
            try check(data.count, "")
            return data.withUnsafeBytes { ref.decode($0, dtype: storage.dtype) }
        case .archive(let key):
            let entry = archivePrefix + "data/" + key
            guard let archive, archive.entry(named: entry) != nil else {
                throw LinstoryError(.corrupt, file: name, "\(what): its storage '\(entry)' is missing from the archive")
            }
            return try archive.withBytes(for: entry) { raw in
                try check(raw.count, "'\(entry)' ")
                return ref.decode(raw, dtype: storage.dtype)
            }
        case .legacy(let key, _):
            throw LinstoryError(.corrupt, file: name, "\(what): storage '\(key)' was never located")
        }
    }

    /// A state_dict (a dict of names to tensors) as float32 tensors by name; `what` names it in errors.
    /// Entries that are not tensors (rosinality keeps none, but optimizers do) are refused.
    public func stateDict(_ v: PickleValue, what: String) throws -> [String: Tensor] {
        guard let d = dict(v) else { throw LinstoryError(.wrongFormat, file: name, "\(what) is \(describe(v)), not a state_dict") }
        var out: [String: Tensor] = [:]
        for (key, value) in zip(d.keys, d.values) {
            guard case .string(let k) = key else { throw LinstoryError(.wrongFormat, file: name, "\(what) has a key that is \(describe(key))") }
            guard case .tensor(let ref)? = object(value) else {
                throw LinstoryError(.wrongFormat, file: name, "\(what) entry '\(k)' is \(describe(value)), not a tensor")
            }
            out[k] = try tensor(ref, what: "tensor '\(k)'")
        }
        return out
    }
}
