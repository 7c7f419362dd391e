import Engine
import Foundation
import Testing

/// `.npy` / `.npz` reading and writing against files numpy wrote (tools/make_numpy_goldens.py),
/// plus damaged and hostile inputs, which must throw a `LinstoryError` naming the file.
@Suite struct NpyNpzTests {
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/numpy").standardized

    private static func path(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    private static func bytes(_ name: String) throws -> [UInt8] { try AtomicFile.read(path(name)) }

    /// The values every layout fixture holds: (i * 0.5) - 3, shape [2, 3, 4].
    private static let ramp = Tensor(shape: [2, 3, 4], values: (0 ..< 24).map { Float($0) * 0.5 - 3 })

    private static func scratchFolder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npio-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Expects `body` to throw a `LinstoryError` whose message names `file` and contains `phrase`,
    /// and, when `kind` is given, of that kind.
    private static func expectFailure(
        naming file: String, _ phrase: String, kind: LinstoryError.Kind? = nil, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> Void
    ) {
        do {
            try body()
            Issue.record("expected an error mentioning '\(phrase)'", sourceLocation: sourceLocation)
        } catch let error as LinstoryError {
            #expect(error.message.hasPrefix(file), "\(error.message)", sourceLocation: sourceLocation)
            #expect(phrase.isEmpty || error.message.contains(phrase), "\(error.message)", sourceLocation: sourceLocation)
            #expect(!error.message.contains("\n"), sourceLocation: sourceLocation)
            if let kind { #expect(error.kind == kind, "\(error.message)", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("not a LinstoryError: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// A version 1.0 `.npy` with the given header dict text and payload, padded as numpy pads.
    private static func npy(header: String, payload: [UInt8] = []) -> [UInt8] {
        var text = Array(header.utf8)
        text += [UInt8](repeating: 0x20, count: 64 - (10 + text.count + 1) % 64) + [0x0A]
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.count & 0xFF), UInt8(text.count >> 8)] + text + payload
    }

    // MARK: - .npy layouts

    @Test(arguments: ["f4_v1.npy", "f4_v2.npy", "f4_v3.npy", "f8_v1.npy", "f8_big_endian.npy", "f2_v1.npy"])
    func readsFloatLayouts(name: String) throws {
        #expect(try NpyArray.read(path: Self.path(name)) == Self.ramp)
    }

    @Test func float64KeepsExactValuesThroughDoubles() throws {
        let array = try NpyArray(contentsOf: Self.path("f8_v1.npy"))
        #expect(array.elementType == .float64)
        #expect(array.descr == "<f8")
        #expect(array.doubles() == (0 ..< 24).map { Double($0) * 0.5 - 3 })
    }

    @Test func readsIntegers() throws {
        let i4 = try NpyArray.read(path: Self.path("i4_v1.npy"))
        #expect(i4.shape == [3, 4])
        #expect(i4.scalars == (-5 ..< 7).map(Float.init))
        let i8 = try NpyArray(contentsOf: Self.path("i8_v1.npy"))
        #expect(i8.elementType == .int64)
        #expect(i8.doubles() == [-0x1p40, -1, 0, 1, 0x1p40])
        #expect(try NpyArray.read(path: Self.path("u1_v1.npy")).scalars == [0, 51, 102, 153, 204, 255])
    }

    @Test func readsScalarAndEmptyArrays() throws {
        let scalar = try NpyArray.read(path: Self.path("scalar_f4.npy"))
        #expect(scalar.shape == [])
        #expect(scalar.scalars == [2.5])
        let empty = try NpyArray.read(path: Self.path("empty_f4.npy"))
        #expect(empty.shape == [0, 3])
        #expect(empty.count == 0)
    }

    @Test func refusesFortranOrder() {
        let file = Self.path("fortran_f4.npy")
        Self.expectFailure(naming: file, "Fortran", kind: .unsupported) { _ = try NpyArray.read(path: file) }
    }

    /// Byte-for-byte what numpy writes, header padding and growth spaces included.
    @Test func encodeMatchesNumpyBytes() throws {
        #expect(NpyArray.encode(Self.ramp) == (try Self.bytes("f4_v1.npy")))
        #expect(NpyArray.encode(Tensor(shape: [], values: [2.5])) == (try Self.bytes("scalar_f4.npy")))
        #expect(NpyArray.encode(Tensor(zeros: [0, 3])) == (try Self.bytes("empty_f4.npy")))
    }

    @Test func writeRoundTripsAtomically() throws {
        let dir = try Self.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/x.npy"
        let t = Tensor(shape: [3, 1, 5], values: (0 ..< 15).map { Float($0) / 7 })
        try NpyArray.write(t, to: file)
        try NpyArray.write(t, to: file)  // replacing an existing file
        #expect(try NpyArray.read(path: file) == t)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["x.npy"])
    }

    @Test func writeIntoMissingFolderNamesThePath() {
        let file = "/nonexistent-npio-folder/x.npy"
        Self.expectFailure(naming: file, "cannot create", kind: .notFound) { try NpyArray.write(Self.ramp, to: file) }
    }

    @Test func readingAMissingFileNamesThePath() {
        let file = Self.path("no-such-file.npy")
        Self.expectFailure(naming: file, "cannot open", kind: .notFound) { _ = try NpyArray.read(path: file) }
    }

    // MARK: - Hostile .npy

    @Test func everyTruncationThrows() throws {
        let whole = try Self.bytes("f4_v1.npy")
        for length in 0 ..< whole.count {
            Self.expectFailure(naming: "cut.npy", "") { _ = try NpyArray.decode(Array(whole[..<length]), name: "cut.npy") }
        }
        let short = Array(whole.dropLast(1))
        Self.expectFailure(naming: "cut.npy", "data is truncated", kind: .corrupt) { _ = try NpyArray.decode(short, name: "cut.npy") }
        Self.expectFailure(naming: "cut.npy", "truncated .npy header", kind: .corrupt) {
            _ = try NpyArray.decode(Array(whole[..<40]), name: "cut.npy")
        }
    }

    @Test func lyingShapeThrows() {
        let bytes = Self.npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (9, 3, 4), }",
                             payload: [UInt8](repeating: 0, count: 96))
        Self.expectFailure(naming: "lie.npy", "data is truncated", kind: .corrupt) { _ = try NpyArray.decode(bytes, name: "lie.npy") }
    }

    @Test func overflowingShapeThrows() {
        let huge = "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }"
        Self.expectFailure(naming: "big.npy", "too large", kind: .corrupt) { _ = try NpyArray.decode(Self.npy(header: huge), name: "big.npy") }
        let digits = "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }"
        Self.expectFailure(naming: "big.npy", "too large", kind: .corrupt) { _ = try NpyArray.decode(Self.npy(header: digits), name: "big.npy") }
        let bytes = "{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }"
        Self.expectFailure(naming: "big.npy", "too large", kind: .corrupt) { _ = try NpyArray.decode(Self.npy(header: bytes), name: "big.npy") }
    }

    /// Found by Fuzz/NpyFuzz: a zero dimension let a shape whose other dimensions overflow pass the
    /// header checks, and `tensor()` then trapped multiplying them.
    @Test func zeroDimensionDoesNotHideAnOverflowingShape() throws {
        let bytes: [UInt8] = Self.npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4, 0), }")
        Self.expectFailure(naming: "zero.npy", "too large", kind: .corrupt) { _ = try NpyArray.decode(bytes, name: "zero.npy") }
        let empty = try NpyArray.decode(Self.npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 0, 3), }"), name: "e.npy")
        #expect(empty.shape == [2, 0, 3] && empty.count == 0)
    }

    @Test(arguments: [
        ("[1, 2, 3]", "not the expected"),
        ("{'descr': '<f4', 'shape': (2,), }", "not the expected"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }", "not the expected"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk", "not a valid dict literal"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,", "not a valid dict literal"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", "negative"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", "not a tuple"),
        ("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", "fortran_order"),
        ("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", "unsupported dtype '<c8'"),
        ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", "unsupported dtype"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': " + String(repeating: "(", count: 40), "nested too deeply"),
    ])
    func badHeadersThrow(header: String, phrase: String) {
        let bytes = Self.npy(header: header, payload: [UInt8](repeating: 0, count: 8))
        // A damaged header is corrupt; only a dtype linstory does not read is unsupported.
        let kind: LinstoryError.Kind = phrase.hasPrefix("unsupported dtype") ? .unsupported : .corrupt
        Self.expectFailure(naming: "bad.npy", phrase, kind: kind) { _ = try NpyArray.decode(bytes, name: "bad.npy") }
    }

    @Test func badMagicAndVersionThrow() throws {
        var bytes = try Self.bytes("f4_v1.npy")
        bytes[6] = 4
        Self.expectFailure(naming: "v.npy", "version 4.0", kind: .unsupported) { _ = try NpyArray.decode(bytes, name: "v.npy") }
        bytes[1] = UInt8(ascii: "X")
        Self.expectFailure(naming: "v.npy", "bad magic", kind: .wrongFormat) { _ = try NpyArray.decode(bytes, name: "v.npy") }
        Self.expectFailure(naming: "v.npy", "not a .npy file", kind: .wrongFormat) { _ = try NpyArray.decode(Array("PK".utf8), name: "v.npy") }
    }

    @Test func oldStyleLongIntegersAreAccepted() throws {
        let bytes = Self.npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }",
                             payload: [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40])
        #expect(try NpyArray.decode(bytes, name: "py2.npy").scalars == [1, 2])
    }

    // MARK: - .npz

    /// The projector's output layout: key `w`, shape [1, num_ws, w_dim], float32.
    @Test func readsProjectedW() throws {
        let arrays = try NpzArchive.read(path: Self.path("projected_w.npz"))
        #expect(Array(arrays.keys) == ["w"])
        let w = try #require(arrays["w"])
        #expect(w.shape == [1, 18, 512])
        var rng = NumpyRandomState(seed: 11)
        #expect(w.scalars == rng.randn(18 * 512).map { Float($0) })
    }

    @Test(arguments: ["savez_two.npz", "savez_compressed_two.npz"])
    func readsTwoArrays(name: String) throws {
        let arrays = try NpzArchive.read(path: Self.path(name))
        #expect(Set(arrays.keys) == ["a", "b"])
        #expect(arrays["a"] == Self.ramp)
        #expect(arrays["b"] == Tensor(shape: [10], values: (0 ..< 10).map(Float.init)))
        #expect(try NpzArchive.readArrays(path: Self.path(name))["b"]?.elementType == .int64)
    }

    @Test func writeRoundTripsInSavezLayout() throws {
        let dir = try Self.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/projected_w.npz"
        let w = Tensor(shape: [1, 18, 512], values: (0 ..< 18 * 512).map { Float($0 % 97) - 48.5 })
        let b = Tensor(shape: [], values: [7])
        try NpzArchive.write([("w", w), ("b", b)], to: file)
        let back = try NpzArchive.read(path: file)
        #expect(back["w"] == w)
        #expect(back["b"] == b)
        let zip = try ZipArchive(path: file)
        #expect(zip.entries.map(\.name) == ["w.npy", "b.npy"])
        #expect(zip.entries.allSatisfy { $0.method == 0 })
        #expect(try zip.data(for: "w.npy") == NpyArray.encode(w))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["projected_w.npz"])
    }

    @Test func duplicateKeysAreRefused() throws {
        let dir = try Self.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/dup.npz"
        Self.expectFailure(naming: file, "same name", kind: .invalidValue) {
            try NpzArchive.write([("w", Self.ramp), ("w", Self.ramp)], to: file)
        }
        // The writer's error, re-aimed at the file, keeps its kind and reads as it always did.
        let error = #expect(throws: LinstoryError.self) { try NpzArchive.write([("w", Self.ramp), ("w", Self.ramp)], to: file) }
        #expect(error?.message == "\(file): cannot write a zip archive with two entries of the same name")
        #expect(error?.kind == .invalidValue)
        #expect(error?.file == file)
        #expect(!FileManager.default.fileExists(atPath: file))
    }

    @Test func npzThatIsNotAZipThrows() throws {
        let npyBytes = try Self.bytes("f4_v1.npy")
        Self.expectFailure(naming: "fake.npz", "not an .npz file", kind: .wrongFormat) {
            _ = try NpzArchive.read(data: npyBytes, name: "fake.npz")
        }
        Self.expectFailure(naming: "empty.npz", "not an .npz file", kind: .wrongFormat) { _ = try NpzArchive.read(data: [], name: "empty.npz") }
        let error = #expect(throws: LinstoryError.self) { _ = try NpzArchive.read(data: npyBytes, name: "fake.npz") }
        #expect(error?.message == "fake.npz: not an .npz file (not a zip archive)")
        #expect(error?.kind == .wrongFormat)
        // The same from a file on disk: a .npy renamed .npz.
        let dir = try Self.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/renamed.npz"
        try AtomicFile.write(npyBytes, to: file)
        let fromFile = #expect(throws: LinstoryError.self) { _ = try NpzArchive.read(path: file) }
        #expect(fromFile?.message == "\(file): not an .npz file (not a zip archive)")
        #expect(fromFile?.kind == .wrongFormat)
    }

    /// A member whose `.npy` lies about its shape: the error names the archive and the member.
    @Test func damagedMemberNamesArchiveAndMember() throws {
        let lying = Self.npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (100,), }", payload: [0, 0, 0, 0])
        let zip = try ZipArchive.archive([(name: "w.npy", bytes: lying)])
        Self.expectFailure(naming: "m.npz: w.npy", "data is truncated", kind: .corrupt) { _ = try NpzArchive.read(data: zip, name: "m.npz") }
    }

    /// Random byte damage must give either a result or a LinstoryError, never a crash.
    @Test(arguments: ["savez_two.npz", "savez_compressed_two.npz"])
    func randomDamageNeverCrashes(name: String) throws {
        let whole = try Self.bytes(name)
        var rng = NumpyRandomState(seed: 2024)
        var failures = 0
        for _ in 0 ..< 2000 {
            var damaged = whole
            for _ in 0 ... Int(rng.nextUInt32() % 4) {
                damaged[Int(rng.nextUInt32()) % damaged.count] = UInt8(truncatingIfNeeded: rng.nextUInt32())
            }
            do {
                _ = try NpzArchive.read(data: damaged, name: name)
            } catch let error as LinstoryError {
                #expect(error.message.hasPrefix(name))
                failures += 1
            }
        }
        #expect(failures > 0)
    }
}
