#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes float32 tensors as a safetensors file that Python's `safetensors.torch.load_file` reads.
public enum SafeTensorsWriter {
    /// Writes `tensors` (stored in name order, whatever order they come in) and `metadata` to `path`,
    /// atomically: readers see the old file or the whole new one, never a torn write.
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String], to path: String) throws {
        let bytes = try encode(tensors, metadata: metadata, path: path)
        try writeAtomically(bytes, to: path)
    }

    /// The file's bytes. Laid out as the Python library lays them out, so that the same tensors give
    /// the same file: `__metadata__` first, tensors sorted by name with their data packed in that order,
    /// the header padded with spaces to a multiple of 8 so the data section starts 8-byte aligned.
    static func encode(_ tensors: [(String, Tensor)], metadata: [String: String], path: String) throws -> [UInt8] {
        var seen = Set<String>()
        for (name, _) in tensors {
            guard name != "__metadata__" else {
                throw LinstoryError(.invalidValue, file: path, "\"__metadata__\" is reserved and cannot name a tensor")
            }
            guard seen.insert(name).inserted else {
                throw LinstoryError(.invalidValue, file: path, "two tensors named \(SafeTensorsJSON.quoted(name))")
            }
        }
        let ordered = tensors.sorted { $0.0 < $1.0 }

        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { key in
                SafeTensorsJSON.quoted(key) + ":" + SafeTensorsJSON.quoted(metadata[key] ?? "")
            }
            fields.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, tensor) in ordered {
            let end = offset + tensor.count * 4
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            fields.append(
                SafeTensorsJSON.quoted(name) + ":{\"dtype\":\"F32\",\"shape\":[\(shape)],"
                    + "\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + offset)
        let length = UInt64(header.count)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))) }
        bytes.append(contentsOf: header)
        for (_, tensor) in ordered {
            tensor.withUnsafeBufferPointer { values in
                #if _endian(little)
                    bytes.append(contentsOf: UnsafeRawBufferPointer(values))
                #else
                    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
                #endif
            }
        }
        return bytes
    }

    /// Temp file in the same folder (so `rename` stays on one file system and is atomic), fsync before
    /// the rename so a crash cannot leave the new name pointing at unwritten blocks.
    private static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temp = "\(folder)/.\(base).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LinstoryError(errno == ENOENT || errno == ENOTDIR ? .notFound : .unreadable, file: path, "cannot create \(temp): \(errnoDescription())") }
        var renamed = false
        defer { if !renamed { unlink(temp) } }
        do {
            defer { close(fd) }
            try bytes.withUnsafeBytes { buffer in
                var done = 0
                while done < buffer.count {
                    guard let base = buffer.baseAddress else { break }
                    let n = writeToDescriptor(fd, base + done, buffer.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw LinstoryError(.unreadable, file: path, "cannot write: \(errnoDescription())")
                    }
                    done += n
                }
            }
            guard fsync(fd) == 0 else { throw LinstoryError(.unreadable, file: path, "cannot fsync: \(errnoDescription())") }
        }
        guard rename(temp, path) == 0 else {
            throw LinstoryError(.unreadable, file: path, "cannot rename into place: \(errnoDescription())")
        }
        renamed = true
        // The rename itself lives in the folder; without this a crash could forget it. Best effort: some
        // file systems refuse to fsync a directory.
        let dirFD = open(folder, O_RDONLY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }

    private static func errnoDescription() -> String { String(cString: strerror(errno)) }
}

/// `write(2)` under another name: inside `SafeTensorsWriter` the plain name means `write(_:metadata:to:)`.
private func writeToDescriptor(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, bytes, count)
}
