#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A safetensors checkpoint, read whole into memory and checked on open.
///
/// Layout: an 8-byte little-endian header length N, N bytes of JSON
/// (`{"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}, ...}`), then
/// the data section, which `data_offsets` index. Every offset, shape and size is validated in `init`,
/// so the accessors below can slice the buffer without further checks.
public struct SafeTensorsFile: Sendable {
    /// One tensor as the header describes it.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        /// The tensor's bytes within the data section (the header's `data_offsets`), not within the file.
        public let byteRange: Range<Int>

        public var elementCount: Int { shape.reduce(1, *) }
    }

    public let path: String
    /// The header's `__metadata__`; empty when the file has none.
    public let metadata: [String: String]
    public let entries: [String: Entry]

    /// The whole file. Tensor data begins at `dataStart`.
    private let bytes: [UInt8]
    private let dataStart: Int

    /// Tensor names, sorted.
    public var names: [String] { entries.keys.sorted() }

    public init(path: String) throws {
        let bytes = try Self.readWholeFile(path)
        let header = try Self.parseHeader(bytes, path: path)
        self.path = path
        self.bytes = bytes
        self.dataStart = header.dataStart
        self.metadata = header.metadata
        self.entries = header.entries
    }

    /// A floating-point tensor (F32, F16, BF16 or F64) as float32.
    public func tensor(_ name: String) throws -> Tensor {
        let entry = try lookup(name)
        guard entry.dtype.loadsAsFloat else {
            throw LinstoryError(
                .unsupported, file: path,
                "tensor \(SafeTensorsJSON.quoted(name)) has dtype \(entry.dtype.rawValue), "
                    + "which does not load as float32 (read it with rawBytes)")
        }
        return withBytes(of: entry) { src in
            Tensor(shape: entry.shape) { dst in Self.decode(src, as: entry.dtype, into: dst) }
        }
    }

    /// A tensor's bytes exactly as stored (little-endian), for dtypes `tensor(_:)` does not convert.
    public func rawBytes(_ name: String) throws -> [UInt8] {
        let entry = try lookup(name)
        return withBytes(of: entry) { Array($0) }
    }

    /// Throws if a floating-point tensor holds NaN or ±Inf, naming the first bad element. Integer
    /// tensors always pass.
    public func validateFinite(_ name: String) throws {
        let entry = try lookup(name)
        guard entry.dtype.loadsAsFloat else { return }
        let values = try tensor(name)
        guard let bad = values.withUnsafeBufferPointer({ $0.firstIndex { !$0.isFinite } }) else { return }
        var what = values[flat: bad].isNaN ? "NaN" : (values[flat: bad] > 0 ? "+Inf" : "-Inf")
        if entry.dtype == .f64 {
            // A finite double can still overflow float32; say so rather than blame the checkpoint for an Inf.
            let original = withBytes(of: entry) { src in
                Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: bad * 8, as: UInt64.self)))
            }
            if original.isFinite { what = "\(original), which overflows float32" }
        }
        throw LinstoryError(
            .corrupt, file: path,
            "tensor \(SafeTensorsJSON.quoted(name)) has \(what) at index \(Self.coordinates(of: bad, in: entry.shape)) "
                + "(element \(bad) of \(entry.elementCount))")
    }

    /// `validateFinite` for every tensor, in name order.
    public func validateAllFinite() throws {
        for name in names { try validateFinite(name) }
    }

    private func lookup(_ name: String) throws -> Entry {
        guard let entry = entries[name] else {
            throw LinstoryError(
                .notFound, file: path, "no tensor named \(SafeTensorsJSON.quoted(name)) (the file has \(entries.count))")
        }
        return entry
    }

    /// Lends `entry`'s bytes; `init` has checked that they lie inside the buffer.
    private func withBytes<R>(of entry: Entry, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { file in
            let range = (dataStart + entry.byteRange.lowerBound)..<(dataStart + entry.byteRange.upperBound)
            return try body(UnsafeRawBufferPointer(rebasing: file[range]))
        }
    }

    /// Widens little-endian `src` into `dst`; `src.count == dst.count * dtype.byteSize` by validation.
    /// Internal so that `SafeTensorsRows` decodes exactly as this does.
    static func decode(
        _ src: UnsafeRawBufferPointer, as dtype: DType, into dst: UnsafeMutableBufferPointer<Float>
    ) {
        switch dtype {
        case .f32:
            #if _endian(little)
                UnsafeMutableRawBufferPointer(dst).copyMemory(from: src)
            #else
                for i in 0..<dst.count {
                    dst[i] = Float(
                        bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            #endif
        case .f16:
            for i in 0..<dst.count {
                dst[i] = floatFromHalfBits(
                    UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .bf16:
            for i in 0..<dst.count {
                dst[i] = floatFromBFloat16Bits(
                    UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .f64:
            for i in 0..<dst.count {
                dst[i] = Float(
                    Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
        default:
            preconditionFailure("decode called for \(dtype.rawValue)")
        }
    }

    /// A row-major flat index as "[i, j, k]", the way a user would index the tensor in PyTorch.
    private static func coordinates(of flat: Int, in shape: [Int]) -> String {
        var rest = flat
        var index = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() where shape[axis] > 0 {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return "[" + index.map(String.init).joined(separator: ", ") + "]"
    }

    /// The whole file, with a read loop because `read` may return less than asked.
    private static func readWholeFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LinstoryError(errno == ENOENT || errno == ENOTDIR ? .notFound : .unreadable, file: path, "cannot open: \(errnoDescription())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw LinstoryError(.unreadable, file: path, "cannot stat: \(errnoDescription())") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw LinstoryError(.wrongFormat, file: path, "not a regular file") }
        let size = Int(info.st_size)
        return try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            while initialized < size {
                let n = read(fd, base + initialized, size - initialized)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw LinstoryError(.unreadable, file: path, "cannot read: \(errnoDescription())")
                }
                if n == 0 { throw LinstoryError(.unreadable, file: path, "file shrank while being read") }
                initialized += n
            }
        }
    }

    private static func errnoDescription() -> String { String(cString: strerror(errno)) }
}
