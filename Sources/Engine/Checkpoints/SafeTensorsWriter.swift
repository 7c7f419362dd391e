/// Writes float32 tensors as a safetensors file that Python's `safetensors.torch.load_file` reads.
public enum SafeTensorsWriter {
    /// Writes `tensors` (stored in name order, whatever order they come in) and `metadata` to `path`,
    /// atomically (see `AtomicFile`): readers see the old file or the whole new one, never a torn write.
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String], to path: String) throws {
        let bytes = try encode(tensors, metadata: metadata, path: path)
        try AtomicFile.write(bytes, to: path)
    }

    /// The file's bytes: `layout`'s header, then each tensor's data in name order.
    static func encode(_ tensors: [(String, Tensor)], metadata: [String: String], path: String) throws -> [UInt8] {
        let layout = try layout(tensors.map { (name: $0.0, shape: $0.1.shape) }, metadata: metadata, path: path)
        var byName: [String: Tensor] = [:]
        for (name, tensor) in tensors { byName[name] = tensor }

        var bytes = layout.head
        bytes.reserveCapacity(layout.head.count + layout.dataSize)
        for placed in layout.tensors {
            byName[placed.name]?.withUnsafeBufferPointer { LittleEndian.append($0, to: &bytes) }
        }
        return bytes
    }

    /// Where everything goes in a file of F32 tensors with these names and shapes.
    struct Layout {
        /// The 8-byte header length and the padded JSON header: everything before the data section.
        var head: [UInt8]
        /// The tensors in file order (by name), each with its bytes' place in the data section.
        var tensors: [(name: String, shape: [Int], range: Range<Int>)]
        var dataSize: Int
    }

    /// The header, laid out as the Python library lays it out, so that the same tensors give the same
    /// file: `__metadata__` first (omitted when empty), tensors sorted by name with their data packed in
    /// that order, the JSON padded with spaces to a multiple of 8 so the data section starts 8-byte
    /// aligned. One function for every writer here, so a whole-file write and a row-by-row one agree.
    static func layout(
        _ tensors: [(name: String, shape: [Int])], metadata: [String: String], path: String
    ) throws -> Layout {
        var seen = Set<String>()
        for (name, _) in tensors {
            guard name != "__metadata__" else {
                throw LinstoryError(.invalidValue, file: path, "\"__metadata__\" is reserved and cannot name a tensor")
            }
            guard seen.insert(name).inserted else {
                throw LinstoryError(.invalidValue, file: path, "two tensors named \(SafeTensorsJSON.quoted(name))")
            }
        }
        let ordered = tensors.sorted { $0.name < $1.name }

        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { key in
                SafeTensorsJSON.quoted(key) + ":" + SafeTensorsJSON.quoted(metadata[key] ?? "")
            }
            fields.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var placed: [(name: String, shape: [Int], range: Range<Int>)] = []
        var offset = 0
        for (name, shape) in ordered {
            let end = offset + shape.reduce(1, *) * 4
            let dims = shape.map(String.init).joined(separator: ",")
            fields.append(
                SafeTensorsJSON.quoted(name) + ":{\"dtype\":\"F32\",\"shape\":[\(dims)],"
                    + "\"data_offsets\":[\(offset),\(end)]}")
            placed.append((name, shape, offset..<end))
            offset = end
        }
        var json = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))

        var head: [UInt8] = []
        head.reserveCapacity(8 + json.count)
        let length = UInt64(json.count)
        for i in 0..<8 { head.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))) }
        head.append(contentsOf: json)
        return Layout(head: head, tensors: placed, dataSize: offset)
    }
}
