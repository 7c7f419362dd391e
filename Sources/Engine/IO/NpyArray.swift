import Foundation

/// A parsed `.npy` file (numpy format versions 1.0, 2.0 and 3.0), validated but not yet converted.
///
/// Reading checks everything a hostile or damaged file could lie about before touching data:
/// magic, version, header length, the header dict itself, the dtype, C order, that the shape's
/// element count does not overflow, and that the file holds every byte the shape implies. Every
/// failure is a `LinstoryError` naming the file.
///
/// Supported dtypes: float16/32/64, signed and unsigned integers of 1, 2, 4, 8 bytes, and bool,
/// either byte order. `tensor()` converts to float32 (the only element type `Tensor` has);
/// `doubles()` keeps float64 goldens exact. Writing always produces `<f4`, version 1.0, the
/// header padded to 64 bytes exactly as numpy pads it.
public struct NpyArray: Sendable {
    public enum ElementType: Sendable, Equatable {
        case float16, float32, float64
        case int8, int16, int32, int64
        case uint8, uint16, uint32, uint64
        case bool

        public var byteCount: Int {
            switch self {
            case .int8, .uint8, .bool: 1
            case .float16, .int16, .uint16: 2
            case .float32, .int32, .uint32: 4
            case .float64, .int64, .uint64: 8
            }
        }
    }

    /// The array's shape; [] for a 0-d array (one element).
    public let shape: [Int]
    public let elementType: ElementType
    /// The dtype string from the header, e.g. `<f4`.
    public let descr: String
    /// Number of elements: the product of `shape`.
    public let count: Int
    private let littleEndian: Bool
    private let bytes: [UInt8]
    private let dataOffset: Int

    private static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// Parses and validates `.npy` bytes. `name` (usually the path) prefixes every error.
    public init(bytes: [UInt8], name: String) throws {
        func fail(_ kind: LinstoryError.Kind, _ problem: String) -> LinstoryError { LinstoryError(kind, file: name, problem) }

        guard bytes.count >= 10 else {
            throw bytes.starts(with: Self.magic.prefix(bytes.count)) && !bytes.isEmpty
                ? fail(.corrupt, "truncated .npy header") : fail(.wrongFormat, "not a .npy file (too short)")
        }
        guard bytes.starts(with: Self.magic) else { throw fail(.wrongFormat, "not a .npy file (bad magic)") }
        let major = bytes[6], minor = bytes[7]
        let headerStart: Int
        let headerLength: Int
        switch (major, minor) {
        case (1, 0):
            headerStart = 10
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        case (2, 0), (3, 0):
            guard bytes.count >= 12 else { throw fail(.corrupt, "truncated .npy header") }
            headerStart = 12
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        default:
            throw fail(.unsupported, "unsupported .npy format version \(major).\(minor)")
        }
        guard headerLength <= bytes.count - headerStart else {
            throw fail(.corrupt, "truncated .npy header (needs \(headerLength) bytes, file has \(bytes.count - headerStart))")
        }
        let header = try NpyHeader(bytes[headerStart ..< headerStart + headerLength], name: name)

        guard let (type, little) = Self.elementType(header.descr) else {
            throw fail(.unsupported, "unsupported dtype '\(header.descr)' (only float, int, uint and bool arrays can be read)")
        }
        guard !header.fortranOrder else {
            throw fail(.unsupported, "Fortran-ordered arrays are not supported (save with np.ascontiguousarray first)")
        }
        // The product of the non-zero dimensions must fit, even when a zero one makes the array
        // empty: numpy refuses such shapes too, and `Tensor` multiplies every dimension.
        var count = 1
        var overflow = false
        for d in header.shape where d != 0 {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            count = p
            overflow = overflow || o
        }
        if header.shape.contains(0) { count = 0 }
        let (byteCount, o2) = count.multipliedReportingOverflow(by: type.byteCount)
        guard !overflow, !o2 else { throw fail(.corrupt, "shape \(NpyHeader.tuple(header.shape)) is too large") }
        let dataOffset = headerStart + headerLength
        guard byteCount <= bytes.count - dataOffset else {
            throw fail(.corrupt, "data is truncated: shape \(NpyHeader.tuple(header.shape)) of \(header.descr) needs "
                + "\(byteCount) bytes after the header, the file has \(bytes.count - dataOffset)")
        }
        // Bytes past the data are ignored, as numpy ignores them.

        self.shape = header.shape
        self.elementType = type
        self.descr = header.descr
        self.count = count
        self.littleEndian = little
        self.bytes = bytes
        self.dataOffset = dataOffset
    }

    /// Reads and validates the `.npy` file at `path`.
    public init(contentsOf path: String) throws {
        try self.init(bytes: AtomicFile.read(path), name: path)
    }

    /// The values as float32, shape `shape`. float64 and wide integers are rounded to nearest.
    public func tensor() -> Tensor {
        Tensor(shape: shape) { dst in convert(into: dst) }
    }

    /// The values as float64, flattened in C order. Exact for every float dtype and for integers
    /// up to 2^53.
    public func doubles() -> [Double] {
        [Double](unsafeUninitializedCapacity: count) { dst, initialized in
            dst.initialize(repeating: 0)
            convert(into: dst)
            initialized = count
        }
    }

    /// Reads the `.npy` file at `path` as a float32 tensor.
    public static func read(path: String) throws -> Tensor {
        try NpyArray(contentsOf: path).tensor()
    }

    /// Parses `.npy` bytes (e.g. an `.npz` member) as a float32 tensor.
    public static func decode(_ bytes: [UInt8], name: String) throws -> Tensor {
        try NpyArray(bytes: bytes, name: name).tensor()
    }

    /// `tensor` as `.npy` bytes: `<f4`, C order, format 1.0 (2.0 only if the header would not fit).
    public static func encode(_ tensor: Tensor) -> [UInt8] {
        var out = header(for: tensor.shape)
        out.reserveCapacity(out.count + tensor.count * 4)
        tensor.withUnsafeBufferPointer { LittleEndian.append($0, to: &out) }
        return out
    }

    /// Writes `tensor` to `path` as `<f4` `.npy`, atomically (see `AtomicFile`).
    public static func write(_ tensor: Tensor, to path: String) throws {
        let head = header(for: tensor.shape)
        #if _endian(little)
        try AtomicFile.write(to: path) { append in
            try head.withUnsafeBytes { try append($0) }
            try tensor.withUnsafeBufferPointer { try append(UnsafeRawBufferPointer($0)) }
        }
        #else
        try AtomicFile.write(encode(tensor), to: path)
        #endif
    }

    // MARK: - Conversion

    private func convert<Out: BinaryFloatingPoint>(into dst: UnsafeMutableBufferPointer<Out>) {
        guard count > 0, let base = dst.baseAddress else { return }
        bytes.withUnsafeBytes { all in
            let src = UnsafeRawBufferPointer(rebasing: all[dataOffset ..< dataOffset + count * elementType.byteCount])
            let native = littleEndian == (1.littleEndian == 1)
            // Same type, same byte order: the bulk copy that keeps a 100 MB read fast.
            if native, (Out.self == Float.self && elementType == .float32)
                || (Out.self == Double.self && elementType == .float64) {
                UnsafeMutableRawPointer(base).copyMemory(from: src.baseAddress!, byteCount: src.count)
                return
            }
            switch elementType {
            case .float16: each(src, dst, UInt16.self) { Out(Self.halfToFloat($0)) }
            case .float32: each(src, dst, UInt32.self) { Out(Float(bitPattern: $0)) }
            case .float64: each(src, dst, UInt64.self) { Out(Double(bitPattern: $0)) }
            case .int8: each(src, dst, Int8.self) { Out($0) }
            case .int16: each(src, dst, Int16.self) { Out($0) }
            case .int32: each(src, dst, Int32.self) { Out($0) }
            case .int64: each(src, dst, Int64.self) { Out($0) }
            case .uint8: each(src, dst, UInt8.self) { Out($0) }
            case .uint16: each(src, dst, UInt16.self) { Out($0) }
            case .uint32: each(src, dst, UInt32.self) { Out($0) }
            case .uint64: each(src, dst, UInt64.self) { Out($0) }
            case .bool: each(src, dst, UInt8.self) { $0 == 0 ? 0 : 1 }
            }
        }
    }

    @inline(__always)
    private func each<Raw: FixedWidthInteger, Out>(
        _ src: UnsafeRawBufferPointer, _ dst: UnsafeMutableBufferPointer<Out>, _: Raw.Type, _ map: (Raw) -> Out
    ) {
        let size = MemoryLayout<Raw>.size
        for i in 0 ..< count {
            let raw = src.loadUnaligned(fromByteOffset: i * size, as: Raw.self)
            dst[i] = map(littleEndian ? Raw(littleEndian: raw) : Raw(bigEndian: raw))
        }
    }

    /// IEEE half to float, by hand: `Float16` is unavailable on some supported platforms.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign: UInt32 = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        switch exponent {
        case 0:
            let magnitude = Float(mantissa) * 0x1p-24  // zero or subnormal
            return sign == 0 ? magnitude : -magnitude
        case 31:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)  // inf or NaN
        default:
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }

    /// The element type and byte order for a numpy dtype string like `<f4`, `>i8`, `|u1`, `|b1`.
    private static func elementType(_ descr: String) -> (ElementType, littleEndian: Bool)? {
        var chars = Substring(descr)
        var little = true
        switch chars.first {
        case "<", "|", "=": chars.removeFirst()
        case ">": little = false; chars.removeFirst()
        default: break
        }
        guard let kind = chars.first, let size = Int(chars.dropFirst()) else { return nil }
        let type: ElementType? = switch (kind, size) {
        case ("f", 2): .float16
        case ("f", 4): .float32
        case ("f", 8): .float64
        case ("i", 1): .int8
        case ("i", 2): .int16
        case ("i", 4): .int32
        case ("i", 8): .int64
        case ("u", 1): .uint8
        case ("u", 2): .uint16
        case ("u", 4): .uint32
        case ("u", 8): .uint64
        case ("b", 1): .bool
        default: nil
        }
        return type.map { ($0, little || $0.byteCount == 1) }
    }

    // MARK: - Writing

    /// The preamble and header numpy writes for a C-order `<f4` array of `shape`, including the
    /// spaces numpy reserves so the first axis can grow in place, padded to a multiple of 64.
    static func header(for shape: [Int]) -> [UInt8] {
        var dict = "{'descr': '<f4', 'fortran_order': False, 'shape': \(NpyHeader.tuple(shape)), }"
        if let first = shape.first { dict += String(repeating: " ", count: max(0, 21 - String(first).utf8.count)) }
        var text = Array(dict.utf8)
        var version: UInt8 = 1
        var preamble = 10
        if text.count + 1 + (64 - (preamble + text.count + 1) % 64) > 0xFFFF {
            version = 2
            preamble = 12
        }
        text += [UInt8](repeating: 0x20, count: 64 - (preamble + text.count + 1) % 64)
        text.append(0x0A)
        var out = magic + [version, 0]
        let n = text.count
        out += version == 1 ? [UInt8(n & 0xFF), UInt8(n >> 8)]
            : [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24 & 0xFF)]
        return out + text
    }
}
