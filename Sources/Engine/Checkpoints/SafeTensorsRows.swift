#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A safetensors file read a row at a time: `init` reads the header only, and each `row` reads one
/// slice along the first axis from disk, so a session's latents of 20,000 frames never sit in memory
/// whole (`SafeTensorsFile` reads the whole file).
///
/// The header is checked as `SafeTensorsFile` checks it (one parser), against the file's size, so every
/// offset it names lies inside the file as it was on open.
///
/// `@unchecked Sendable`: the only state after `init` is immutable, and the descriptor it owns is only
/// used with `pread`, which takes its offset as an argument and leaves the file position alone, so
/// readers on several threads cannot disturb one another.
public final class SafeTensorsRows: @unchecked Sendable {
    public let path: String
    /// The header's `__metadata__`; empty when the file has none.
    public let metadata: [String: String]
    public let entries: [String: SafeTensorsFile.Entry]
    private let fd: Int32
    /// File offset of the data section.
    private let dataStart: Int

    /// Tensor names, sorted.
    public var names: [String] { entries.keys.sorted() }

    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw LinstoryError(errno == ENOENT || errno == ENOTDIR ? .notFound : .unreadable, file: path, "cannot open: \(Self.errnoDescription())")
        }
        // An init that throws before every property is set never runs deinit: close the descriptor here.
        do {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw LinstoryError(.unreadable, file: path, "cannot stat: \(Self.errnoDescription())") }
            guard info.st_mode & S_IFMT == S_IFREG else { throw LinstoryError(.wrongFormat, file: path, "not a regular file") }
            let size = Int(info.st_size)

            // The length first, then the header it gives, when it plausibly fits: parseHeader reports a
            // length that does not before it needs the JSON.
            var start = try Self.read(fd, count: min(size, 8), at: 0, path: path)
            if start.count == 8 {
                let length = start.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
                if length <= UInt64(SafeTensorsFile.maxHeaderLength), length <= UInt64(size - 8) {
                    start = try Self.read(fd, count: 8 + Int(length), at: 0, path: path)
                }
            }
            let header = try SafeTensorsFile.parseHeader(start, path: path, fileSize: size)
            self.path = path
            self.fd = fd
            self.metadata = header.metadata
            self.entries = header.entries
            self.dataStart = header.dataStart
        } catch {
            _ = close(fd)
            throw error
        }
    }

    deinit { _ = close(fd) }

    /// Slice `i` along the first axis of a floating-point tensor (F32, F16, BF16 or F64), as float32 of
    /// shape `shape.dropFirst()`.
    public func row(_ name: String, _ i: Int) throws -> Tensor {
        let entry = try floatEntry(name)
        guard let rows = entry.shape.first else {
            throw LinstoryError(.invalidValue, file: path, "tensor \(SafeTensorsJSON.quoted(name)) is a scalar; it has no rows")
        }
        guard (0..<rows).contains(i) else {
            throw LinstoryError(
                .invalidValue, file: path, "row \(i) of tensor \(SafeTensorsJSON.quoted(name)) is out of range (it has \(rows))")
        }
        let rowShape = Array(entry.shape.dropFirst())
        let rowCount = rowShape.reduce(1, *)
        return try load(entry, shape: rowShape, from: i * rowCount, what: "row \(i) of tensor \(SafeTensorsJSON.quoted(name))")
    }

    /// A whole floating-point tensor as float32, as `SafeTensorsFile.tensor` gives it.
    public func tensor(_ name: String) throws -> Tensor {
        let entry = try floatEntry(name)
        return try load(entry, shape: entry.shape, from: 0, what: "tensor \(SafeTensorsJSON.quoted(name))")
    }

    private func floatEntry(_ name: String) throws -> SafeTensorsFile.Entry {
        guard let entry = entries[name] else {
            throw LinstoryError(
                .notFound, file: path, "no tensor named \(SafeTensorsJSON.quoted(name)) (the file has \(entries.count))")
        }
        guard entry.dtype.loadsAsFloat else {
            throw LinstoryError(
                .unsupported, file: path,
                "tensor \(SafeTensorsJSON.quoted(name)) has dtype \(entry.dtype.rawValue), which does not load as float32")
        }
        return entry
    }

    /// `shape.reduce(1, *)` elements of `entry` starting at element `first`, decoded to float32. The header
    /// was checked against the file's size on open, so a short read means the file shrank since.
    private func load(_ entry: SafeTensorsFile.Entry, shape: [Int], from first: Int, what: String) throws -> Tensor {
        let count = shape.reduce(1, *)
        let offset = dataStart + entry.byteRange.lowerBound + first * entry.dtype.byteSize
        let byteCount = count * entry.dtype.byteSize
        func short(_ got: Int) -> LinstoryError {
            LinstoryError(
                .corrupt, file: path,
                "is shorter than its header says: \(what) needs bytes \(offset)..<\(offset + byteCount), "
                    + "but the file ends at byte \(offset + got)")
        }
        #if _endian(little)
            // Float32 as stored is float32 in memory: read it straight into the tensor.
            if entry.dtype == .f32 {
                return try Tensor(shape: shape) { dst in
                    let got = try Self.fill(fd, UnsafeMutableRawBufferPointer(dst), at: offset, path: path)
                    guard got == byteCount else { throw short(got) }
                }
            }
        #endif
        var raw = [UInt8](repeating: 0, count: byteCount)
        let got = try raw.withUnsafeMutableBytes { try Self.fill(fd, $0, at: offset, path: path) }
        guard got == byteCount else { throw short(got) }
        return raw.withUnsafeBytes { src in
            Tensor(shape: shape) { dst in SafeTensorsFile.decode(src, as: entry.dtype, into: dst) }
        }
    }

    /// Up to `count` bytes at `offset`; fewer only where the file ends.
    private static func read(_ fd: Int32, count: Int, at offset: Int, path: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try bytes.withUnsafeMutableBytes { try fill(fd, $0, at: offset, path: path) }
        bytes.removeSubrange(got...)
        return bytes
    }

    /// Fills `buffer` from file offset `offset` with `pread` (which may return less than asked, so it
    /// loops); returns how many bytes it got, less than `buffer.count` only at end of file.
    private static func fill(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int, path: String) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var got = 0
        while got < buffer.count {
            let n = pread(fd, base + got, min(buffer.count - got, 1 << 30), off_t(offset + got))
            if n < 0 {
                if errno == EINTR { continue }
                throw LinstoryError(.unreadable, file: path, "cannot read: \(errnoDescription())")
            }
            if n == 0 { break }
            got += n
        }
        return got
    }

    private static func errnoDescription() -> String { String(cString: strerror(errno)) }
}
