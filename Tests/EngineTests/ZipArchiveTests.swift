import Engine
import Foundation
import Testing

/// The ZIP reader on archives numpy and Python's zipfile wrote (stored, deflate, ZIP64), the
/// stored-only writer, and damaged or hostile archives, which must throw a `LinstoryError`
/// naming the archive rather than crash or allocate without bound.
@Suite struct ZipArchiveTests {
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/numpy").standardized

    private static func bytes(_ name: String) throws -> [UInt8] {
        try AtomicFile.read(fixtures.appendingPathComponent(name).path)
    }

    private static func expectFailure(
        _ archive: [UInt8], entry: String? = nil, _ phrase: String, kind: LinstoryError.Kind? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            let zip = try ZipArchive(data: archive, name: "hostile.zip")
            for e in zip.entries where entry == nil || e.name == entry { _ = try zip.data(for: e.name) }
            Issue.record("expected an error mentioning '\(phrase)'", sourceLocation: sourceLocation)
        } catch let error as LinstoryError {
            #expect(error.message.hasPrefix("hostile.zip: "), "\(error.message)", sourceLocation: sourceLocation)
            #expect(phrase.isEmpty || error.message.contains(phrase), "\(error.message)", sourceLocation: sourceLocation)
            if let kind { #expect(error.kind == kind, "\(error.message)", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("not a LinstoryError: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Offset of the `index`-th central directory record (signature PK\1\2).
    private static func centralRecord(_ bytes: [UInt8], _ index: Int) -> Int {
        var found = -1
        for i in 0 ..< bytes.count - 3 where bytes[i ..< i + 4].elementsEqual([0x50, 0x4B, 0x01, 0x02]) {
            found += 1
            if found == index { return i }
        }
        return -1
    }

    private static func put32(_ v: UInt32, at offset: Int, in bytes: inout [UInt8]) {
        for k in 0 ..< 4 { bytes[offset + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
    }

    private static func get32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0 ..< 4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    // MARK: - Reading real archives

    @Test func listsAndExtractsStoredAndDeflatedMembers() throws {
        let stored = try ZipArchive(data: Self.bytes("savez_two.npz"), name: "savez_two.npz")
        let deflated = try ZipArchive(data: Data(Self.bytes("savez_compressed_two.npz")), name: "c.npz")
        #expect(stored.entries.map(\.name) == ["a.npy", "b.npy"])
        #expect(stored.entries.map(\.method) == [0, 0])
        #expect(deflated.entries.map(\.method) == [8, 8])
        for name in ["a.npy", "b.npy"] {
            let a = try stored.data(for: name)
            #expect(a.count == stored.entry(named: name)?.uncompressedSize)
            #expect(try deflated.data(for: name) == a)
        }
        #expect(try stored.withBytes(for: "b.npy") { $0.count } == 208)
    }

    @Test func readsZip64Structures() throws {
        let zip = try ZipArchive(data: Self.bytes("zip64_forced.zip"), name: "zip64_forced.zip")
        #expect(zip.entries.map(\.name) == ["hello.txt", "dir/data.bin"])
        #expect(try zip.data(for: "hello.txt") == Array(String(repeating: "hello zip64\n", count: 10).utf8))
        #expect(try zip.data(for: "dir/data.bin") == Array((0 ..< 1024).map { UInt8($0 % 256) }))
    }

    @Test func missingEntryThrows() throws {
        let zip = try ZipArchive(data: Self.bytes("savez_two.npz"), name: "hostile.zip")
        #expect(zip.entry(named: "c.npy") == nil)
        #expect(throws: LinstoryError(.notFound, file: "hostile.zip", "no entry 'c.npy' in the archive")) {
            _ = try zip.data(for: "c.npy")
        }
    }

    // MARK: - Writing

    @Test func writerRoundTrips() throws {
        let files: [(name: String, bytes: [UInt8])] = [
            ("empty.bin", []),
            ("dir/ünïcode.txt", Array("grüße".utf8)),
            ("big.bin", (0 ..< 100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }),
        ]
        let zip = try ZipArchive(data: ZipArchive.archive(files), name: "w.zip")
        #expect(zip.entries.map(\.name) == files.map(\.name))
        for f in files { #expect(try zip.data(for: f.name) == f.bytes) }
        #expect(try ZipArchive(data: ZipArchive.archive([]), name: "none.zip").entries.isEmpty)
    }

    @Test func writerIsDeterministic() throws {
        let files: [(name: String, bytes: [UInt8])] = [("a.npy", [1, 2, 3])]
        #expect(try ZipArchive.archive(files) == ZipArchive.archive(files))
    }

    // MARK: - Hostile archives

    @Test func everyTruncationThrows() throws {
        let whole = try Self.bytes("savez_compressed_two.npz")
        for length in 0 ..< whole.count { Self.expectFailure(Array(whole[..<length]), "") }
    }

    @Test func notAZip() {
        Self.expectFailure(Array("just some text, no zip here".utf8), "not a zip archive", kind: .wrongFormat)
        Self.expectFailure([], "not a zip archive", kind: .wrongFormat)
    }

    /// The directory says the entry is longer than the bytes left in the file.
    @Test func truncatedEntry() throws {
        var bytes = try ZipArchive.archive([(name: "a.npy", bytes: [UInt8](repeating: 7, count: 100))])
        let record = Self.centralRecord(bytes, 0)
        // Still inside the file (so the directory itself is plausible), but past the data area.
        Self.put32(150, at: record + 20, in: &bytes)
        Self.put32(150, at: record + 24, in: &bytes)
        Self.expectFailure(bytes, "is truncated", kind: .corrupt)
    }

    @Test func hugeUncompressedSizeIsRefusedBeforeAllocating() throws {
        var bytes = try Self.bytes("savez_compressed_two.npz")
        Self.put32(0xFFFF_FFF0, at: Self.centralRecord(bytes, 0) + 24, in: &bytes)
        Self.expectFailure(bytes, entry: "a.npy", "implausible", kind: .corrupt)
    }

    @Test func corruptDeflateStream() throws {
        var bytes = try Self.bytes("savez_compressed_two.npz")
        let dataStart = 30 + 5 + 20  // local header, "a.npy", ZIP64 extra numpy writes
        for i in dataStart ..< dataStart + 40 { bytes[i] = 0xFF }
        Self.expectFailure(bytes, entry: "a.npy", "corrupt deflate data", kind: .corrupt)
    }

    @Test func deflateStreamCutShort() throws {
        var bytes = try Self.bytes("savez_compressed_two.npz")
        let record = Self.centralRecord(bytes, 0)
        Self.put32(Self.get32(bytes, at: record + 20) / 2, at: record + 20, in: &bytes)
        Self.expectFailure(bytes, entry: "a.npy", "deflate data ends early", kind: .corrupt)
    }

    @Test func deflateLongerThanDeclared() throws {
        var bytes = try Self.bytes("savez_compressed_two.npz")
        let record = Self.centralRecord(bytes, 0)
        Self.put32(Self.get32(bytes, at: record + 24) - 10, at: record + 24, in: &bytes)
        Self.expectFailure(bytes, entry: "a.npy", "more than its declared", kind: .corrupt)
    }

    @Test func damagedStoredDataFailsCRC() throws {
        var bytes = try ZipArchive.archive([(name: "a.npy", bytes: [UInt8](repeating: 7, count: 100))])
        bytes[30 + 5 + 50] ^= 1
        Self.expectFailure(bytes, "CRC-32", kind: .corrupt)
    }

    @Test func unsupportedMethodAndEncryption() throws {
        var bytes = try ZipArchive.archive([(name: "a.npy", bytes: [1, 2, 3])])
        let record = Self.centralRecord(bytes, 0)
        bytes[record + 10] = 12  // bzip2
        Self.expectFailure(bytes, "compression method 12", kind: .unsupported)
        bytes[record + 10] = 0
        bytes[record + 8] |= 1
        Self.expectFailure(bytes, "encrypted", kind: .unsupported)
    }

    @Test func directoryPointingOutsideTheFile() throws {
        var bytes = try ZipArchive.archive([(name: "a.npy", bytes: [1, 2, 3])])
        let end = bytes.count - 22
        Self.put32(0x7FFF_FFFF, at: end + 16, in: &bytes)
        Self.expectFailure(bytes, "central directory lies outside the file", kind: .corrupt)
        bytes = try ZipArchive.archive([(name: "a.npy", bytes: [1, 2, 3])])
        bytes[end + 10] = 0xFF  // more entries than the directory can hold
        Self.expectFailure(bytes, "cannot fit", kind: .corrupt)
        bytes = try ZipArchive.archive([(name: "a.npy", bytes: [1, 2, 3])])
        Self.put32(0x1000, at: Self.centralRecord(bytes, 0) + 42, in: &bytes)  // local header offset
        Self.expectFailure(bytes, "lie outside the file", kind: .corrupt)
    }

    @Test func localHeaderMustAgreeWithDirectory() throws {
        var bytes = try ZipArchive.archive([(name: "a.npy", bytes: [1, 2, 3])])
        bytes[30] = UInt8(ascii: "b")  // the local header's copy of the name
        Self.expectFailure(bytes, "names another file", kind: .corrupt)
        bytes = try ZipArchive.archive([(name: "a.npy", bytes: [1, 2, 3])])
        bytes[0] = 0
        Self.expectFailure(bytes, "bad local header", kind: .corrupt)
    }

    /// Random damage to a ZIP64 archive: a result or a LinstoryError, never a crash.
    @Test func randomDamageNeverCrashes() throws {
        let whole = try Self.bytes("zip64_forced.zip")
        var rng = NumpyRandomState(seed: 99)
        for _ in 0 ..< 3000 {
            var damaged = whole
            for _ in 0 ... Int(rng.nextUInt32() % 3) {
                damaged[Int(rng.nextUInt32()) % damaged.count] = UInt8(truncatingIfNeeded: rng.nextUInt32())
            }
            do {
                let zip = try ZipArchive(data: damaged, name: "hostile.zip")
                for e in zip.entries { _ = try? zip.data(for: e.name) }
            } catch let error as LinstoryError {
                #expect(error.message.hasPrefix("hostile.zip: "))
            }
        }
    }
}
