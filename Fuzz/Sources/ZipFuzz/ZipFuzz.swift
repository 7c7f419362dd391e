import CZlib
import CFuzzDriver

/// libFuzzer entry for the zip reader on raw archive bytes: the directory is listed and every entry
/// read both ways (`data(for:)` and `withBytes(for:)`), so mutations reach the end records (ZIP64
/// included), the central directory, local headers and the inflater. The first byte picks the mode:
/// even: the rest as it is, CRCs and all; odd: the rest with the CRC-32 of every entry that parses
/// recomputed by the harness (from the entry's data, inflated here when deflated) and written into its
/// central-directory record before reading, so that mutated data gets past the reader's CRC check,
/// which stays on.
@_cdecl("LLVMFuzzerTestOneInput")
public func zipFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    var bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    guard let zip = try? ZipArchive(data: bytes, name: "fuzz.zip") else { return 0 }
    let archive: ZipArchive
    if data[0] & 1 == 1 {
        fixCRCs(&bytes, zip.entries)
        guard let fixed = try? ZipArchive(data: bytes, name: "fuzz.zip") else { return 0 }
        archive = fixed
    } else {
        archive = zip
    }
    for entry in archive.entries {
        _ = entry.isDirectory
        _ = archive.entry(named: entry.name)
        if let out = try? archive.data(for: entry.name) {
            // Both ways must agree: a stored entry is handed over in place, a deflated one inflated.
            let same = (try? archive.withBytes(for: entry.name) { $0.elementsEqual(out) }) ?? false
            precondition(same, "data(for:) and withBytes(for:) disagree on '\(entry.name)'")
        } else {
            _ = try? archive.withBytes(for: entry.name) { $0.count }
        }
    }
    return 0
}

/// Writes into every central-directory record that describes one of `entries` (same name, same CRC)
/// the CRC-32 of the bytes that entry really holds, when its data can be found.
private func fixCRCs(_ bytes: inout [UInt8], _ entries: [ZipEntry]) {
    func u16(_ at: Int) -> Int? { at >= 0 && at + 2 <= bytes.count ? Int(bytes[at]) | Int(bytes[at + 1]) << 8 : nil }
    func u32(_ at: Int) -> UInt32? {
        at >= 0 && at + 4 <= bytes.count ? (0 ..< 4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) } : nil
    }
    var actual: [String: UInt32] = [:]
    for e in entries where e.method == 0 || e.method == 8 {
        let at = e.localHeaderOffset
        guard u32(at) == 0x0403_4B50, let n = u16(at + 26), let m = u16(at + 28) else { continue }
        let start = at + 30 + n + m
        guard start <= bytes.count, e.compressedSize <= bytes.count - start else { continue }
        let raw = Array(bytes[start ..< start + e.compressedSize])
        if e.method == 0 {
            actual[e.name] = raw.withUnsafeBytes { ZipArchive.crc32($0) }
        } else if e.uncompressedSize <= 1 << 22, let out = inflateRaw(raw, limit: e.uncompressedSize) {
            actual[e.name] = out.withUnsafeBytes { ZipArchive.crc32($0) }
        }
    }
    guard !actual.isEmpty, bytes.count >= 46 else { return }
    for p in 0 ... bytes.count - 46 where bytes[p] == 0x50 && u32(p) == 0x0201_4B50 {
        guard let n = u16(p + 28), p + 46 + n <= bytes.count,
              let crc = actual[String(decoding: bytes[p + 46 ..< p + 46 + n], as: UTF8.self)],
              let old = u32(p + 16), entries.contains(where: { $0.crc32 == old })
        else { continue }
        for k in 0 ..< 4 { bytes[p + 16 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
    }
}

/// Raw deflate into at most `limit` bytes; nil when the stream is corrupt.
private func inflateRaw(_ src: [UInt8], limit: Int) -> [UInt8]? {
    var stream = z_stream()
    guard inflateInit2_(&stream, -MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
    defer { inflateEnd(&stream) }
    var out = [UInt8](repeating: 0, count: limit + 1)
    var input = src
    let status = input.withUnsafeMutableBufferPointer { i in
        out.withUnsafeMutableBufferPointer { o in
            stream.next_in = i.baseAddress
            stream.avail_in = UInt32(i.count)
            stream.next_out = o.baseAddress
            stream.avail_out = UInt32(o.count)
            return CZlib.inflate(&stream, Z_FINISH)
        }
    }
    guard status == Z_STREAM_END || status == Z_BUF_ERROR || status == Z_OK else { return nil }
    return Array(out[0 ..< min(Int(stream.total_out), limit)])
}

/// SwiftPM links an executable target's entry point as `ZipFuzz_main` and points `main` at it; with
/// -parse-as-library there is none, so this one hands control to libFuzzer's driver.
@_cdecl("ZipFuzz_main")
public func ZipFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, zipFuzz)
}
