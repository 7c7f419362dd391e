/// The legacy (pre-1.6, non-zip) `torch.save` stream: five pickles in a row (a magic number, the
/// protocol version 1001, a dict of system facts, the object itself, and the list of storage keys),
/// then every storage's data as an 8-byte element count and its raw little-endian bytes.
///
/// NVIDIA's network pickles hold one such stream per tensor, as the argument of
/// `torch.storage._load_from_bytes`; old rosinality `.pt` files are one such stream as a whole.
enum TorchLegacyStream {
    /// 0x1950a86a20f9469cfc6c, pickled as LONG1: little-endian.
    static let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// Whether `bytes` starts like a legacy stream (protocol-2 pickle of the magic number).
    static func looksLike(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.count >= 14 && Array(bytes.prefix(4)) == [0x80, 0x02, 0x8A, 0x0A] && Array(bytes.dropFirst(4).prefix(10)) == magic
    }

    /// A whole stream: the object's values, with every storage located in the data section.
    static func read(
        _ bytes: ArraySlice<UInt8>, name: String, budget: PickleBudget
    ) throws -> (root: PickleValue, objects: [PickleObject]) {
        func fail(_ kind: LinstoryError.Kind, _ problem: String) -> LinstoryError {
            LinstoryError(kind, file: name, "legacy torch.save stream: \(problem)")
        }
        func machine(at start: Int, _ persistence: PickleMachine.Persistence) -> PickleMachine {
            PickleMachine(bytes: bytes, from: start, name: name, persistence: persistence, allowsNestedStreams: false, budget: budget)
        }

        var header = machine(at: bytes.startIndex, .forbidden)
        guard case .bigInt(magic) = try header.load() else { throw fail(.wrongFormat, "bad magic number (not a torch.save file)") }
        var version = machine(at: header.pos, .forbidden)
        guard case .int(let protocolVersion) = try version.load(), protocolVersion == 1001 else {
            throw fail(.unsupported, "unknown protocol version (1001 expected)")
        }
        var sysInfo = machine(at: version.pos, .forbidden)
        let info = try sysInfo.load()
        if case .dict(let d)? = sysInfo.object(info), case .bool(false)? = d["little_endian"] {
            throw fail(.unsupported, "was written on a big-endian machine, which linstory does not read")
        }
        var body = machine(at: sysInfo.pos, .legacyStream)
        let root = try body.load()
        var keysMachine = machine(at: body.pos, .forbidden)
        let keysValue = try keysMachine.load()
        guard case .list(let keyValues)? = keysMachine.object(keysValue) else { throw fail(.corrupt, "storage key list is missing") }

        // Each root storage's type and claimed size, from the records the object pickle made.
        var objects = body.objects
        var claims: [String: (dtype: TorchDType, count: Int)] = [:]
        for case .storage(let s) in objects {
            guard case .legacy(let key, let view) = s.source else { continue }
            if view == nil { claims[key] = (s.dtype, s.count) } else if claims[key] == nil { claims[key] = (s.dtype, -1) }
        }

        // The data section, in key-list order.
        var located: [String: ArraySlice<UInt8>] = [:]
        var pos = keysMachine.pos
        for value in keyValues {
            guard case .string(let key) = value else { throw fail(.corrupt, "storage key list holds a non-string") }
            guard let claim = claims[key] else { throw fail(.corrupt, "data for storage '\(key)', which no tensor names") }
            guard located[key] == nil else { throw fail(.corrupt, "storage '\(key)' appears twice") }
            guard bytes.endIndex - pos >= 8 else { throw fail(.corrupt, "storage '\(key)' is truncated") }
            var n: UInt64 = 0
            for i in 0..<8 { n |= UInt64(bytes[pos + i]) << (8 * UInt64(i)) }
            pos += 8
            let available = bytes.endIndex - pos
            let size = claim.dtype.byteSize
            guard n <= UInt64(available / size) else {
                throw fail(.corrupt, "storage '\(key)' claims \(n) elements but only \(available) bytes remain (truncated file?)")
            }
            let count = Int(n)
            if claim.count >= 0 && claim.count != count {
                throw fail(.corrupt, "storage '\(key)' is recorded with \(claim.count) elements but its data has \(count)")
            }
            located[key] = bytes[pos..<pos + count * size]
            pos += count * size
        }

        // Point every storage record at its bytes.
        for i in objects.indices {
            guard case .storage(var s) = objects[i], case .legacy(let key, let view) = s.source else { continue }
            guard let data = located[key] else { throw fail(.corrupt, "storage '\(key)' has no data (truncated file?)") }
            let size = s.dtype.byteSize
            if let view {
                guard view.offset <= data.count / size, view.count <= data.count / size - view.offset else {
                    throw fail(.corrupt, "a view of storage '\(key)' lies outside its \(data.count / size) elements")
                }
                let start = data.startIndex + view.offset * size
                s.source = .bytes(data[start..<start + view.count * size])
            } else {
                s.source = .bytes(data)
            }
            objects[i] = .storage(s)
        }
        return (root, objects)
    }

    /// The storage that `torch.storage._load_from_bytes(stream)` returns.
    static func readStorage(_ stream: ArraySlice<UInt8>, name: String, budget: PickleBudget) throws -> TorchStorage {
        let (root, objects) = try read(stream, name: name, budget: budget)
        guard case .object(let k) = root, case .storage(let storage) = objects[k] else {
            throw LinstoryError(.corrupt, file: name, "legacy torch.save stream inside the pickle holds something other than a storage")
        }
        return storage
    }
}
