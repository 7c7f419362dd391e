import Engine
import Foundation
import Testing

// The fixtures are made by tools/make_png_fixtures.py from formulas this file recomputes; the two
// must change together.
private let fixtures = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/png")

private func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

private func patternRGB(_ x: Int, _ y: Int) -> [UInt8] {
    [UInt8((x * 40 + y * 7) & 255), UInt8((y * 50 + x * 3 + 17) & 255), UInt8((x * y * 13 + 99) & 255)]
}

private func patternGray(_ x: Int, _ y: Int) -> UInt8 { UInt8((x * 30 + y * 5) & 255) }

private func sample16(_ x: Int, _ y: Int, _ c: Int) -> Int { (x * 9001 + y * 4099 + c * 12345) & 0xFFFF }

/// png_set_scale_16's rule: round(v * 255 / 65535). v / 257 is never exactly halfway, so rounding
/// direction for ties does not matter.
private func scaled(_ v: Int) -> UInt8 { UInt8((Double(v) * 255 / 65535).rounded()) }

private func image(_ width: Int, _ height: Int, _ pixel: (Int, Int) -> [UInt8]) -> RGBImage {
    var pixels: [UInt8] = []
    for y in 0..<height { for x in 0..<width { pixels += pixel(x, y) } }
    return RGBImage(width: width, height: height, pixels: pixels)
}

/// A fresh folder for one test, removed afterwards.
private final class Scratch {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("pngfile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let p = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }
    func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }
}

private func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

/// Offset of the first chunk of `type` (its length field), for cutting and corrupting fixtures.
private func chunkOffset(_ png: [UInt8], _ type: String) -> Int? {
    var at = 8
    while at + 8 <= png.count {
        let length = png[at..<at + 4].reduce(0) { $0 << 8 | Int($1) }
        if String(decoding: png[at + 4..<at + 8], as: UTF8.self) == type { return at }
        at += 12 + length
    }
    return nil
}

@Suite struct PNGFileTests {
    // MARK: Round trips

    @Test func roundTripRGB() throws {
        let dir = try Scratch()
        let original = image(13, 6) { x, y in [UInt8(x * 19 % 256), UInt8(y * 41 % 256), UInt8((x ^ y) * 7 % 256)] }
        let path = dir.file("frame.png")
        try PNGFile.write(original, to: path)
        #expect(try PNGFile.read(path: path) == original)
        #expect(try dir.contents() == ["frame.png"], "the temporary file is renamed away")
    }

    @Test func roundTripGray() throws {
        let dir = try Scratch()
        let samples = (0..<(9 * 4)).map { UInt8($0 * 7 % 256) }
        let path = dir.file("mask.png")
        try PNGFile.writeGray(samples, width: 9, height: 4, to: path)
        let back = try PNGFile.read(path: path)
        #expect(back.width == 9 && back.height == 4)
        #expect(back.pixels == samples.flatMap { [$0, $0, $0] })
    }

    @Test func writeReplacesAnExistingFile() throws {
        let dir = try Scratch()
        let path = dir.file("frame.png")
        try PNGFile.write(RGBImage(width: 4, height: 4), to: path)
        let second = image(2, 3) { x, y in patternRGB(x, y) }
        try PNGFile.write(second, to: path)
        #expect(try PNGFile.read(path: path) == second)
        #expect(try dir.contents() == ["frame.png"])
    }

    @Test func encodeDecodeInMemory() throws {
        let original = image(5, 8) { x, y in patternRGB(x, y) }
        let png = try PNGFile.encode(original)
        #expect(Array(png.prefix(8)) == [137, 80, 78, 71, 13, 10, 26, 10])
        #expect(try PNGFile.decode(png, name: "memory") == original)
    }

    @Test func writeIntoMissingFolderNamesTheFile() throws {
        let dir = try Scratch()
        let path = dir.file("no/such/folder/frame.png")
        let error = #expect(throws: LinstoryError.self) { try PNGFile.write(RGBImage(width: 1, height: 1), to: path) }
        #expect(error?.message.hasPrefix(path + ": ") == true)
        #expect(error?.message.contains("No such file or directory") == true)
        #expect(error?.kind == .notFound)
    }

    @Test func writeEmptyImageFails() throws {
        let dir = try Scratch()
        let error = #expect(throws: LinstoryError.self) { try PNGFile.write(RGBImage(width: 0, height: 3), to: dir.file("e.png")) }
        #expect(error?.kind == .invalidValue)
        #expect(try dir.contents().isEmpty, "a failed write leaves no temporary behind")
    }

    // MARK: Decoding the colour types

    @Test func readsRGB8() throws {
        #expect(try PNGFile.read(path: fixture("rgb8.png")) == image(7, 5, patternRGB))
    }

    @Test func readsGray8AsRGB() throws {
        let expected = image(7, 5) { x, y in let g = patternGray(x, y); return [g, g, g] }
        #expect(try PNGFile.read(path: fixture("gray8.png")) == expected)
    }

    @Test func readsGray1ExpandedToFullRange() throws {
        let expected = image(9, 3) { x, y in let g: UInt8 = (x + y) & 1 == 1 ? 255 : 0; return [g, g, g] }
        #expect(try PNGFile.read(path: fixture("gray1.png")) == expected)
    }

    @Test func readsPaletteDroppingTransparency() throws {
        let colours: [[UInt8]] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [250, 200, 10], [7, 8, 9]]
        let expected = image(7, 5) { x, y in colours[(x + 2 * y) % colours.count] }
        #expect(try PNGFile.read(path: fixture("palette4.png")) == expected)
    }

    @Test func readsGrayAlphaDroppingAlpha() throws {
        let expected = image(7, 5) { x, y in let g = patternGray(x, y); return [g, g, g] }
        #expect(try PNGFile.read(path: fixture("gray_alpha8.png")) == expected)
    }

    /// Alpha is dropped, not composited: even fully transparent pixels (alpha 0 at x = 0, y = 0)
    /// keep their stored colour.
    @Test func readsRGBADroppingAlpha() throws {
        #expect(try PNGFile.read(path: fixture("rgba8.png")) == image(7, 5, patternRGB))
    }

    @Test func reads16BitScaledWithRounding() throws {
        let expected = image(7, 5) { x, y in (0..<3).map { scaled(sample16(x, y, $0)) } }
        let got = try PNGFile.read(path: fixture("rgb16.png"))
        #expect(got == expected)
        // The fixture includes samples whose low byte rounds up, so this is not high-byte truncation.
        let truncated = image(7, 5) { x, y in (0..<3).map { UInt8(sample16(x, y, $0) >> 8) } }
        #expect(got != truncated)
    }

    @Test func readsGray16() throws {
        let expected = image(5, 3) { x, y in let g = scaled(sample16(x, y, 0)); return [g, g, g] }
        #expect(try PNGFile.read(path: fixture("gray16.png")) == expected)
    }

    @Test func readsInterlaced() throws {
        #expect(try PNGFile.read(path: fixture("interlaced.png")) == image(11, 9, patternRGB))
    }

    // MARK: Failures name the file

    @Test func missingFile() throws {
        let path = "/nonexistent-\(UUID().uuidString)/frame.png"
        let error = #expect(throws: LinstoryError.self) { try PNGFile.read(path: path) }
        #expect(error?.message == "\(path): cannot open: No such file or directory")
        #expect(error?.kind == .notFound)
    }

    @Test func notAPNG() throws {
        let dir = try Scratch()
        let path = try dir.write(Array("GIF89a, not a PNG at all".utf8), "fake.png")
        let error = #expect(throws: LinstoryError.self) { try PNGFile.read(path: path) }
        #expect(error?.message == "\(path): not a PNG file (no PNG signature)")
        #expect(error?.kind == .wrongFormat)
    }

    @Test func emptyFile() throws {
        let dir = try Scratch()
        let path = try dir.write([], "empty.png")
        let error = #expect(throws: LinstoryError.self) { try PNGFile.read(path: path) }
        #expect(error?.message == "\(path): not a PNG file (it is empty)")
        #expect(error?.kind == .wrongFormat)
    }

    @Test func directoryIsNotReadable() throws {
        let dir = try Scratch()
        let error = #expect(throws: LinstoryError.self) { try PNGFile.read(path: dir.path) }
        #expect(error?.message.hasPrefix(dir.path + ": cannot read: ") == true)
        #expect(error?.kind == .unreadable)
    }

    @Test(arguments: [4, 20, 60, 120])
    func truncatedFile(keep: Int) throws {
        let dir = try Scratch()
        let whole = try bytes(fixture("rgb8.png"))
        let path = try dir.write(Array(whole.prefix(keep)), "cut.png")
        let error = #expect(throws: LinstoryError.self) { try PNGFile.read(path: path) }
        #expect(error?.message.hasPrefix(path + ": truncated PNG") == true, "\(error?.message ?? "")")
        #expect(error?.kind == .corrupt)
    }

    /// Cut after the pixel data but before IEND: the pixels decode, yet the file is still incomplete.
    @Test func truncatedBeforeIEND() throws {
        let dir = try Scratch()
        let whole = try bytes(fixture("rgb8.png"))
        let iend = try #require(chunkOffset(whole, "IEND"))
        let path = try dir.write(Array(whole.prefix(iend)), "cut.png")
        let error = #expect(throws: LinstoryError.self) { try PNGFile.read(path: path) }
        #expect(error?.message == "\(path): truncated PNG: the data ends early")
        #expect(error?.kind == .corrupt)
    }

    /// libpng inflates IDAT as it streams, so damaged pixel data is usually caught by zlib before the
    /// chunk's CRC is checked; whichever fires, its message is passed through.
    @Test func corruptPixelDataReportsLibpngsMessage() throws {
        let dir = try Scratch()
        var png = try bytes(fixture("rgb8.png"))
        let idat = try #require(chunkOffset(png, "IDAT"))
        png[idat + 10] ^= 0x55
        let path = try dir.write(png, "bad.png")
        let error = #expect(throws: LinstoryError.self) { try PNGFile.read(path: path) }
        // The wording after "IDAT: " is zlib's and varies between zlib versions.
        #expect(error?.message.hasPrefix("\(path): corrupt PNG: IDAT: ") == true, "\(error?.message ?? "")")
        #expect(error?.kind == .corrupt)
    }

    @Test func badChecksumReportsLibpngsMessage() throws {
        let dir = try Scratch()
        var png = try bytes(fixture("rgb8.png"))
        let iend = try #require(chunkOffset(png, "IEND"))
        png[iend - 1] ^= 0x01 // the last byte of IDAT's CRC
        let path = try dir.write(png, "bad.png")
        let error = #expect(throws: LinstoryError.self) { try PNGFile.read(path: path) }
        #expect(error?.message == "\(path): corrupt PNG: IDAT: CRC error")
        #expect(error?.kind == .corrupt)
    }

    @Test func absurdSizeIsRefusedBeforeAllocating() throws {
        // A valid 1x1 PNG whose header claims 40000x40000 (4.8 GB of RGB); the CRC is fixed up so
        // only the size check can stop it.
        var png = try PNGFile.encode(RGBImage(width: 1, height: 1))
        let size: [UInt8] = [0, 0, 0x9C, 0x40]
        png.replaceSubrange(16..<20, with: size)
        png.replaceSubrange(20..<24, with: size)
        let crc = crc32(Array(png[12..<29]))
        png.replaceSubrange(29..<33, with: [UInt8(crc >> 24), UInt8(crc >> 16 & 255), UInt8(crc >> 8 & 255), UInt8(crc & 255)])
        let error = #expect(throws: LinstoryError.self) { try PNGFile.decode(png, name: "huge") }
        #expect(error?.message.hasPrefix("huge: image too large (40000x40000") == true, "\(error?.message ?? "")")
        #expect(error?.kind == .tooLarge)
    }

    @Test func truncatedMemory() throws {
        let png = try bytes(fixture("interlaced.png"))
        let error = #expect(throws: LinstoryError.self) { try PNGFile.decode(Array(png.prefix(100)), name: "buffer") }
        #expect(error?.message == "buffer: truncated PNG: the data ends early")
        #expect(error?.kind == .corrupt)
    }
}

private func crc32(_ data: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in data {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}
