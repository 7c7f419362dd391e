import CZlib
import Foundation

// Just over 400 lines: reading and writing share the record layouts, so they stay in one file.

/// One member of a ZIP archive, as its central-directory record describes it.
public struct ZipEntry: Sendable, Equatable {
    public let name: String
    /// 0 = stored, 8 = deflate; anything else is refused when extracted.
    public let method: UInt16
    /// General-purpose flags; bit 0 (encrypted) is refused when extracted.
    public let flags: UInt16
    public let crc32: UInt32
    public let compressedSize: Int
    public let uncompressedSize: Int
    /// Where the entry's local header starts in the archive.
    public let localHeaderOffset: Int

    public var isDirectory: Bool { name.hasSuffix("/") }
}

/// A minimal, defensive ZIP reader (and a stored-only writer) for `.npz` and PyTorch `.pt` files.
///
/// Reads the end-of-central-directory record (and the ZIP64 one where present, which numpy and
/// torch write), lists entries from the central directory, and extracts stored or deflated
/// entries. Every offset and size read from the file is checked against the buffer before use,
/// and no entry may claim more than 1032x the archive size + 1 MiB uncompressed, so a corrupt
/// or hostile archive throws a `LinstoryError` naming the archive; it never crashes and never
/// makes an outsized allocation. Multi-disk and encrypted archives are refused.
public struct ZipArchive: Sendable {
    /// Names the archive in errors (usually its path).
    public let name: String
    public let entries: [ZipEntry]
    private let bytes: [UInt8]
    private let index: [String: Int]
    /// Where the central directory starts: member data must end before it.
    private let dataLimit: Int

    public init(data: [UInt8], name: String) throws {
        self.name = name
        self.bytes = data
        (self.entries, self.dataLimit) = try Self.readCentralDirectory(Reader(bytes: data), name: name)
        // Python's zipfile, which np.load reads with, lets a later duplicate name win.
        var index = [String: Int]()
        for (i, e) in entries.enumerated() { index[e.name] = i }
        self.index = index
    }

    public init(data: Data, name: String) throws {
        try self.init(data: [UInt8](data), name: name)
    }

    /// Reads and indexes the archive at `path`.
    public init(path: String) throws {
        try self.init(data: AtomicFile.read(path), name: path)
    }

    public func entry(named entryName: String) -> ZipEntry? {
        index[entryName].map { entries[$0] }
    }

    /// The uncompressed bytes of the entry called `entryName`, CRC-checked.
    public func data(for entryName: String) throws -> [UInt8] {
        guard let entry = entry(named: entryName) else { throw fail(.notFound, "no entry '\(entryName)' in the archive") }
        guard entry.method == 8 else { return try withBytes(for: entryName) { [UInt8]($0) } }
        // Inflated bytes are already a fresh array: hand it over rather than copy it again.
        let range = try dataRange(of: entry)
        let out = try bytes.withUnsafeBytes { try inflate(UnsafeRawBufferPointer(rebasing: $0[range]), entry) }
        try out.withUnsafeBytes { try checkCRC($0, entry) }
        return out
    }

    /// Calls `body` with the entry's uncompressed bytes, CRC-checked. Stored entries are passed
    /// straight from the archive buffer, without a copy (large PyTorch tensors are stored).
    public func withBytes<R>(for entryName: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let entry = entry(named: entryName) else { throw fail(.notFound, "no entry '\(entryName)' in the archive") }
        let range = try dataRange(of: entry)
        return try bytes.withUnsafeBytes { all in
            let compressed = UnsafeRawBufferPointer(rebasing: all[range])
            switch entry.method {
            case 0:
                guard entry.compressedSize == entry.uncompressedSize else {
                    throw fail(.corrupt, "entry '\(entry.name)' is stored but its two sizes differ (corrupt archive)")
                }
                try checkCRC(compressed, entry)
                return try body(compressed)
            default:
                let out = try inflate(compressed, entry)
                return try out.withUnsafeBytes { view in
                    try checkCRC(view, entry)
                    return try body(view)
                }
            }
        }
    }

    // MARK: - Reading the directory

    private static let maxComment = 0xFFFF
    /// Deflate cannot expand more than 1032:1 (a 258-byte match in 2 bits), so no honest entry
    /// exceeds this; a claim beyond it is a lie, and is refused before allocating.
    private static func limit(forArchiveOf size: Int) -> Int { 1032 * size + (1 << 20) }

    /// The entries and the offset of the central directory.
    private static func readCentralDirectory(_ r: Reader, name: String) throws -> ([ZipEntry], Int) {
        func fail(_ kind: LinstoryError.Kind, _ problem: String) -> LinstoryError { LinstoryError(kind, file: name, problem) }
        let size = r.bytes.count

        // The end record sits in the last 22 bytes plus at most a 64 KiB comment; search backwards.
        var eocd: Int?
        var at = size - 22
        while at >= max(0, size - 22 - maxComment) {
            if r.u32(at) == 0x0605_4B50, let comment = r.u16(at + 20), at + 22 + Int(comment) <= size {
                eocd = at
                break
            }
            at -= 1
        }
        guard let eocd,
              let disk = r.u16(eocd + 4), let cdDisk = r.u16(eocd + 6),
              let count16 = r.u16(eocd + 10), let cdSize32 = r.u32(eocd + 12), let cdOffset32 = r.u32(eocd + 16)
        else { throw fail(.wrongFormat, "not a zip archive (no end-of-central-directory record)") }

        var count = Int(count16)
        var cdSize = Int(cdSize32)
        var cdOffset = Int(cdOffset32)
        var cdLimit = eocd  // the central directory must end before the record that describes it
        var multiDisk = disk != 0 || cdDisk != 0

        // ZIP64: a locator right before the end record points at a record with 64-bit fields.
        if eocd >= 20, r.u32(eocd - 20) == 0x0706_4B50 {
            guard let where64 = r.u64(eocd - 12).flatMap({ Int(exactly: $0) }), where64 <= eocd - 20 - 56,
                  r.u32(where64) == 0x0606_4B50,
                  let disk64 = r.u32(where64 + 16), let cdDisk64 = r.u32(where64 + 20),
                  let c = r.u64(where64 + 32).flatMap({ Int(exactly: $0) }),
                  let s = r.u64(where64 + 40).flatMap({ Int(exactly: $0) }),
                  let o = r.u64(where64 + 48).flatMap({ Int(exactly: $0) })
            else { throw fail(.corrupt, "corrupt zip archive (bad ZIP64 end record)") }
            count = c
            cdSize = s
            cdOffset = o
            cdLimit = where64
            multiDisk = disk64 != 0 || cdDisk64 != 0
        }
        guard !multiDisk else { throw fail(.unsupported, "multi-part zip archives are not supported") }
        guard cdOffset <= cdLimit, cdSize <= cdLimit - cdOffset else {
            throw fail(.corrupt, "corrupt zip archive (central directory lies outside the file)")
        }
        // Each record is at least 46 bytes, which also bounds the array below.
        guard count <= cdSize / 46 else { throw fail(.corrupt, "corrupt zip archive (\(count) entries cannot fit the directory)") }

        var entries = [ZipEntry]()
        entries.reserveCapacity(count)
        var p = cdOffset
        let end = cdOffset + cdSize
        for i in 0 ..< count {
            func bad(_ why: String) -> LinstoryError { fail(.corrupt, "corrupt zip archive (central directory entry \(i): \(why))") }
            guard p <= end - 46, r.u32(p) == 0x0201_4B50,
                  let flags = r.u16(p + 8), let method = r.u16(p + 10), let crc = r.u32(p + 16),
                  let csize32 = r.u32(p + 20), let usize32 = r.u32(p + 24),
                  let nameLength = r.u16(p + 28), let extraLength = r.u16(p + 30), let commentLength = r.u16(p + 32),
                  let startDisk = r.u16(p + 34), let offset32 = r.u32(p + 42)
            else { throw bad("bad signature or truncated") }
            let nameStart = p + 46
            let extraStart = nameStart + Int(nameLength)
            let next = extraStart + Int(extraLength) + Int(commentLength)
            guard next <= end else { throw bad("runs past the directory") }

            var csize = Int(csize32), usize = Int(usize32), offset = Int(offset32)
            var disk = Int(startDisk)
            // ZIP64 extra field: 64-bit values for exactly those fields saturated above, in order.
            var q = extraStart
            let extraEnd = extraStart + Int(extraLength)
            while q + 4 <= extraEnd, let tag = r.u16(q), let length = r.u16(q + 2) {
                let body = q + 4
                guard body + Int(length) <= extraEnd else { throw bad("extra field runs past its record") }
                if tag == 0x0001 {
                    var f = body
                    func wide() throws -> Int {
                        guard f + 8 <= body + Int(length), let v = r.u64(f).flatMap({ Int(exactly: $0) }) else {
                            throw bad("short or out-of-range ZIP64 field")
                        }
                        f += 8
                        return v
                    }
                    if usize32 == 0xFFFF_FFFF { usize = try wide() }
                    if csize32 == 0xFFFF_FFFF { csize = try wide() }
                    if offset32 == 0xFFFF_FFFF { offset = try wide() }
                    if startDisk == 0xFFFF {
                        guard f + 4 <= body + Int(length), let d = r.u32(f) else { throw bad("short ZIP64 field") }
                        disk = Int(d)
                    }
                }
                q = body + Int(length)
            }
            guard disk == 0 else { throw fail(.unsupported, "multi-part zip archives are not supported") }
            guard offset <= size, csize <= size else { throw bad("sizes or offset lie outside the file") }

            let name = String(decoding: r.bytes[nameStart ..< extraStart], as: UTF8.self)
            entries.append(ZipEntry(name: name, method: method, flags: flags, crc32: crc,
                                    compressedSize: csize, uncompressedSize: usize, localHeaderOffset: offset))
            p = next
        }
        return (entries, cdOffset)
    }

    // MARK: - Extracting

    /// Where `entry`'s compressed bytes lie, after checking its local header agrees.
    private func dataRange(of entry: ZipEntry) throws -> Range<Int> {
        let r = Reader(bytes: bytes)
        let at = entry.localHeaderOffset
        guard entry.flags & 1 == 0 else { throw fail(.unsupported, "entry '\(entry.name)' is encrypted (not supported)") }
        guard entry.method == 0 || entry.method == 8 else {
            throw fail(.unsupported, "entry '\(entry.name)' uses compression method \(entry.method) (only stored and deflate are supported)")
        }
        guard entry.uncompressedSize <= Self.limit(forArchiveOf: bytes.count) else {
            throw fail(.corrupt, "entry '\(entry.name)' claims \(entry.uncompressedSize) bytes uncompressed, "
                + "implausible for a \(bytes.count)-byte archive")
        }
        guard r.u32(at) == 0x0403_4B50, let nameLength = r.u16(at + 26), let extraLength = r.u16(at + 28) else {
            throw fail(.corrupt, "entry '\(entry.name)' has a bad local header (corrupt archive)")
        }
        let nameStart = at + 30
        let start = nameStart + Int(nameLength) + Int(extraLength)
        // The local sizes may be zero (data descriptor) or saturated (ZIP64), so the central
        // directory's sizes are the ones used; the name must still agree, as zipfile insists.
        guard nameStart + Int(nameLength) <= bytes.count,
              String(decoding: bytes[nameStart ..< nameStart + Int(nameLength)], as: UTF8.self) == entry.name
        else { throw fail(.corrupt, "entry '\(entry.name)' has a local header that names another file (corrupt archive)") }
        guard start <= dataLimit, entry.compressedSize <= dataLimit - start else {
            throw fail(.corrupt, "entry '\(entry.name)' is truncated (its data runs into the central directory or past the end)")
        }
        return start ..< start + entry.compressedSize
    }

    /// Raw deflate (no zlib header) into exactly `entry.uncompressedSize` bytes.
    private func inflate(_ src: UnsafeRawBufferPointer, _ entry: ZipEntry) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail(.unreadable, "cannot start zlib to read entry '\(entry.name)'")
        }
        defer { inflateEnd(&stream) }
        // One spare byte tells "exactly as declared" from "longer than declared".
        var out = [UInt8](repeating: 0, count: entry.uncompressedSize + 1)
        var consumed = 0, produced = 0
        let chunk = Int(UInt32.max)
        try out.withUnsafeMutableBytes { dst in
            let input = src.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: UInt8.self)) }
            while true {
                let inCount = min(src.count - consumed, chunk)
                let outCount = min(dst.count - produced, chunk)
                stream.next_in = input.map { $0 + consumed }
                stream.avail_in = UInt32(inCount)
                stream.next_out = dst.baseAddress!.assumingMemoryBound(to: UInt8.self) + produced
                stream.avail_out = UInt32(outCount)
                let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                consumed += inCount - Int(stream.avail_in)
                produced += outCount - Int(stream.avail_out)
                switch status {
                case Z_STREAM_END:
                    return
                case Z_OK:
                    continue
                case Z_BUF_ERROR where produced == dst.count:
                    throw fail(.corrupt, "entry '\(entry.name)' inflates to more than its declared \(entry.uncompressedSize) bytes")
                case Z_BUF_ERROR:
                    throw fail(.corrupt, "entry '\(entry.name)' is truncated (deflate data ends early)")
                case Z_MEM_ERROR:
                    throw fail(.unreadable, "out of memory inflating entry '\(entry.name)'")
                default:
                    let why = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw fail(.corrupt, "entry '\(entry.name)' has corrupt deflate data (\(why))")
                }
            }
        }
        guard produced == entry.uncompressedSize else {
            throw fail(.corrupt, "entry '\(entry.name)' inflates to \(produced) bytes, not the declared \(entry.uncompressedSize)")
        }
        out.removeLast()
        return out
    }

    private func checkCRC(_ data: UnsafeRawBufferPointer, _ entry: ZipEntry) throws {
        let crc = Self.crc32(data)
        guard crc == entry.crc32 else {
            throw fail(.corrupt, "entry '\(entry.name)' fails its CRC-32 check (corrupt archive)")
        }
    }

    /// The CRC-32 of `data`; given the CRC of the bytes before it as `continuing`, the CRC of the
    /// whole run, so a member written in pieces is checksummed as it goes.
    static func crc32(_ data: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        var crc = uLong(previous)
        guard let base = data.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return previous }
        var done = 0
        while done < data.count {
            let n = min(data.count - done, 1 << 30)
            crc = CZlib.crc32(crc, base + done, uInt(n))
            done += n
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    private func fail(_ kind: LinstoryError.Kind, _ problem: String) -> LinstoryError { LinstoryError(kind, file: name, problem) }

    // MARK: - Writing

    /// A ZIP archive holding `files` uncompressed, in order (the layout `np.savez` writes).
    /// Plain 32-bit ZIP: the whole archive must stay under 4 GiB and 65535 entries.
    public static func archive(_ files: [(name: String, bytes: [UInt8])]) throws -> [UInt8] {
        guard files.count < 0xFFFF else { throw LinstoryError(.unsupported, "cannot write more than 65534 entries to a zip archive") }
        guard Set(files.map(\.name)).count == files.count else {
            throw LinstoryError(.invalidValue, "cannot write a zip archive with two entries of the same name")
        }
        var out = [UInt8]()
        var central = [UInt8]()
        for file in files {
            var member = try StoredMember(name: file.name, size: file.bytes.count, offset: out.count)
            member.crc = file.bytes.withUnsafeBytes { crc32($0) }
            out += member.localHeader
            out += file.bytes
            central += member.centralEntry
        }
        out += try centralDirectory(central, entries: files.count, at: out.count)
        return out
    }

    /// One stored (uncompressed) member's records. The byte layout of what this archive writes lives
    /// here and in `centralDirectory`, for `archive` and for writers that stream a member
    /// (`NpzArchive.RowWriter`), so both give the same bytes.
    struct StoredMember {
        let name: [UInt8]
        let size: UInt32
        /// Where the local header starts.
        let offset: UInt32
        var crc: UInt32 = 0

        /// Checks that the name is usable and that the member (local header, name, data) ends below 4 GiB.
        init(name: String, size: Int, offset: Int) throws {
            let bytes = Array(name.utf8)
            guard !bytes.isEmpty, bytes.count <= 0xFFFF else { throw LinstoryError(.invalidValue, "bad zip entry name '\(name)'") }
            guard offset <= 0xFFFF_FFFF - 30 - bytes.count - size else {
                throw LinstoryError(.unsupported, "cannot write '\(name)': zip archives without ZIP64 stop at 4 GiB")
            }
            self.name = bytes
            self.size = UInt32(size)
            self.offset = UInt32(offset)
        }

        /// Bytes before the member's data: 30 + name.
        var localHeader: [UInt8] {
            var out = [UInt8]()
            put32(0x0403_4B50, &out)
            put16(20, &out); put16(utf8Flag, &out); put16(0, &out); put16(0, &out); put16(dosDate, &out)
            put32(crc, &out); put32(size, &out); put32(size, &out)
            put16(name.count, &out); put16(0, &out)
            return out + name
        }

        /// The member's central-directory record: 46 + name.
        var centralEntry: [UInt8] {
            var out = [UInt8]()
            put32(0x0201_4B50, &out)
            put16(0x0314, &out)  // made by Unix, spec 2.0, so the mode below is honoured
            put16(20, &out); put16(utf8Flag, &out); put16(0, &out); put16(0, &out)
            put16(dosDate, &out)
            put32(crc, &out); put32(size, &out); put32(size, &out)
            put16(name.count, &out); put16(0, &out); put16(0, &out); put16(0, &out)
            put16(0, &out)
            put32(0o100644 << 16, &out)
            put32(offset, &out)
            return out + name
        }

        private var utf8Flag: Int { name.allSatisfy { $0 < 0x80 } ? 0 : 0x0800 }
        /// 1980-01-01 00:00: fixed, so the same arrays give the same bytes.
        private var dosDate: Int { 0x21 }
    }

    /// The archive's tail: `records` (the members' `centralEntry`s, `entries` of them), placed at
    /// archive offset `offset`, then the end record pointing at them. Checks that the directory ends
    /// below 4 GiB, where plain ZIP offsets stop.
    static func centralDirectory(_ records: [UInt8], entries: Int, at offset: Int) throws -> [UInt8] {
        guard offset <= 0xFFFF_FFFF - records.count else {
            throw LinstoryError(.unsupported, "cannot write a zip archive over 4 GiB (no ZIP64 support)")
        }
        var out = records
        put32(0x0605_4B50, &out)
        put16(0, &out); put16(0, &out); put16(entries, &out); put16(entries, &out)
        put32(UInt32(records.count), &out); put32(UInt32(offset), &out); put16(0, &out)
        return out
    }
}

private func put16(_ v: Int, _ to: inout [UInt8]) { to += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
private func put32(_ v: UInt32, _ to: inout [UInt8]) { withUnsafeBytes(of: v.littleEndian) { to += $0 } }

/// Bounds-checked little-endian reads: nil instead of reading outside the buffer.
private struct Reader {
    let bytes: [UInt8]

    func u16(_ at: Int) -> UInt16? { load(at, UInt16.self) }
    func u32(_ at: Int) -> UInt32? { load(at, UInt32.self) }
    func u64(_ at: Int) -> UInt64? { load(at, UInt64.self) }

    private func load<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T? {
        guard at >= 0, at <= bytes.count - MemoryLayout<T>.size else { return nil }
        return bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: T.self)) }
    }
}
