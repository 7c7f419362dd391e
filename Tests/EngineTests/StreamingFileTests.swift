import Engine
import Foundation
import Synchronization
import Testing

// Over 400 lines on purpose: each streaming writer sits beside the whole-file writer it must equal byte
// for byte, sharing the helpers that compare them.

// Files written and read in pieces, so a 20,000-frame session never holds its latents whole: the
// crash-safe stream under every writer, row-by-row safetensors and .npz writers that must give the
// very bytes the whole-file writers give, and a safetensors reader that reads only the header on open.

/// A fresh folder per test, removed afterwards, so tests running in parallel never share a file.
private func withScratchFolder<R>(_ body: (String) throws -> R) throws -> R {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-streaming-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

private func contents(_ folder: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
}

/// Distinct values per tensor, row and element (and some that only bits tell apart), so a row written
/// to the wrong place or a tensor swapped for another shows.
private func ramp(_ shape: [Int], seed: Float) -> Tensor {
    let count = shape.reduce(1, *)
    return Tensor(shape: shape, values: (0..<count).map { i in i % 7 == 3 ? -0.0 : seed + Float(i) * 0.25 })
}

/// Expects `body` to throw a one-line `LinstoryError` of `kind` that starts with `file` and says `phrase`.
private func expectFailure(
    naming file: String, _ phrase: String, kind: LinstoryError.Kind, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected an error saying '\(phrase)'", sourceLocation: sourceLocation)
    } catch let error as LinstoryError {
        #expect(error.message.hasPrefix(file + ": "), "\(error.message)", sourceLocation: sourceLocation)
        #expect(error.message.contains(phrase), "\(error.message)", sourceLocation: sourceLocation)
        #expect(!error.message.contains("\n"), "\(error.message)", sourceLocation: sourceLocation)
        #expect(error.kind == kind, "\(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("not a LinstoryError: \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("Streaming: AtomicFile.Stream")
struct AtomicStreamTests {
    @Test func appendsPlacesAndCommits() throws {
        try withScratchFolder { folder in
            let path = folder + "/out.bin"
            let stream = try AtomicFile.Stream(path: path)
            try stream.append([1, 2, 3, 4])
            try [UInt8](repeating: 9, count: 3).withUnsafeBytes { try stream.append($0) }
            #expect(stream.size == 7)
            // Patching earlier bytes leaves the append position alone.
            try [UInt8]([7, 7]).withUnsafeBytes { try stream.write($0, at: 1) }
            #expect(stream.size == 7)
            try stream.append([5])
            // Nothing at the target until the commit, only the temporary file beside it.
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(try contents(folder).count == 1)
            try stream.commit()
            #expect(try AtomicFile.read(path) == [1, 7, 7, 4, 9, 9, 9, 5])
            #expect(try contents(folder) == ["out.bin"])

            expectFailure(naming: path, "already committed", kind: .invalidValue) { try stream.commit() }
            expectFailure(naming: path, "already committed", kind: .invalidValue) { try stream.append([0]) }
            #expect(try AtomicFile.read(path) == [1, 7, 7, 4, 9, 9, 9, 5])
        }
    }

    @Test func bytesPlacedPastTheEndLeaveZerosBetween() throws {
        try withScratchFolder { folder in
            let path = folder + "/gap.bin"
            let stream = try AtomicFile.Stream(path: path)
            try stream.append([1])
            try [UInt8]([2]).withUnsafeBytes { try stream.write($0, at: 4) }
            try stream.commit()
            #expect(try AtomicFile.read(path) == [1, 0, 0, 0, 2])
        }
    }

    /// A stream dropped without a commit takes its temporary file with it and leaves the old file alone.
    @Test func uncommittedStreamLeavesNoFileAndNoTemporary() throws {
        try withScratchFolder { folder in
            let fresh = folder + "/fresh.bin"
            do {
                let stream = try AtomicFile.Stream(path: fresh)
                try stream.append([UInt8](repeating: 1, count: 1000))
                #expect(try contents(folder).count == 1)
            }
            #expect(try contents(folder).isEmpty)

            let existing = folder + "/existing.bin"
            try AtomicFile.write([42], to: existing)
            do {
                let stream = try AtomicFile.Stream(path: existing)
                try stream.append([1, 2, 3])
            }
            #expect(try contents(folder) == ["existing.bin"])
            #expect(try AtomicFile.read(existing) == [42])
        }
    }

    /// The whole-file write runs on the stream: a body that throws leaves nothing behind either.
    @Test func wholeFileWriteThatThrowsLeavesTheOldFile() throws {
        struct Stop: Error {}
        try withScratchFolder { folder in
            let path = folder + "/kept.bin"
            try AtomicFile.write([1, 2], to: path)
            #expect(throws: Stop.self) {
                try AtomicFile.write(to: path) { append in
                    try [UInt8]([3, 4, 5]).withUnsafeBytes { try append($0) }
                    throw Stop()
                }
            }
            #expect(try contents(folder) == ["kept.bin"])
            #expect(try AtomicFile.read(path) == [1, 2])
        }
    }

    @Test func missingFolderIsNamed() {
        let path = "/nonexistent-linstory-streaming/x.bin"
        expectFailure(naming: path, "cannot create a temporary file", kind: .notFound) { _ = try AtomicFile.Stream(path: path) }
    }
}

@Suite("Streaming: SafeTensorsWriter.Rows")
struct SafeTensorsRowsWriterTests {
    /// Names sorting before and after "w" (the file stores them by name, whatever order they come in),
    /// a tensor of one value per row and one of none.
    static let tensors: [(name: String, rowShape: [Int])] = [
        ("w", [3, 4]), ("noise/n0", [1, 2, 2]), ("a_loss", []), ("zeta", [5]), ("empty", [2, 0]),
    ]
    static let rows = 7
    /// Every row once, out of order.
    static let order = [3, 0, 6, 2, 5, 1, 4]

    static func whole(_ name: String, _ rowShape: [Int], seed: Float) -> Tensor {
        ramp([rows] + rowShape, seed: seed)
    }

    static func row(_ i: Int, of tensor: Tensor) -> Tensor {
        tensor.slice(i..<(i + 1)).reshaped(Array(tensor.shape.dropFirst()))
    }

    @Test(arguments: [[:], ["format": "linstory latents", "frames": "0:7", "note": "é \" \\"]])
    func bytesMatchTheWholeFileWriter(metadata: [String: String]) throws {
        let wholes = Self.tensors.enumerated().map { k, t in (t.name, Self.whole(t.name, t.rowShape, seed: Float(k) * 100)) }
        try withScratchFolder { folder in
            let reference = folder + "/whole.safetensors"
            let streamed = folder + "/rows.safetensors"
            try SafeTensorsWriter.write(wholes, metadata: metadata, to: reference)

            let writer = try SafeTensorsWriter.Rows(path: streamed, tensors: Self.tensors, rows: Self.rows, metadata: metadata)
            // A row written twice keeps the second.
            try writer.write(row: 2, Dictionary(uniqueKeysWithValues: wholes.map { ($0.0, Self.row(5, of: $0.1)) }))
            for i in Self.order {
                try writer.write(row: i, Dictionary(uniqueKeysWithValues: wholes.map { ($0.0, Self.row(i, of: $0.1)) }))
            }
            try writer.commit()
            #expect(try AtomicFile.read(streamed) == AtomicFile.read(reference))
            #expect(try contents(folder) == ["rows.safetensors", "whole.safetensors"])

            // Identical bytes could still share a fault; read back, in name order, with the metadata.
            let file = try SafeTensorsFile(path: streamed)
            #expect(file.metadata == metadata)
            for (name, tensor) in wholes { #expect(try file.tensor(name) == tensor) }
            let starts = file.names.map { file.entries[$0]!.byteRange.lowerBound }
            #expect(starts == starts.sorted())
            let json = String(decoding: try AtomicFile.read(streamed).dropFirst(8).prefix(15), as: UTF8.self)
            #expect((json == #"{"__metadata__""#) == !metadata.isEmpty, "\(json)")
        }
    }

    @Test func noRowsMatchesTheWholeFileWriter() throws {
        try withScratchFolder { folder in
            try SafeTensorsWriter.write(
                [("w", Tensor(zeros: [0, 3])), ("b", Tensor(zeros: [0]))], metadata: ["k": "v"], to: folder + "/whole.safetensors")
            let writer = try SafeTensorsWriter.Rows(
                path: folder + "/rows.safetensors", tensors: [("w", [3]), ("b", [])], rows: 0, metadata: ["k": "v"])
            try writer.commit()
            #expect(try AtomicFile.read(folder + "/rows.safetensors") == AtomicFile.read(folder + "/whole.safetensors"))
        }
    }

    @Test func unwrittenRowRefusesCommitAndLeavesNoFile() throws {
        try withScratchFolder { folder in
            let path = folder + "/partial.safetensors"
            do {
                let writer = try SafeTensorsWriter.Rows(path: path, tensors: [("w", [2])], rows: 5, metadata: [:])
                for i in [0, 1, 3] { try writer.write(row: i, ["w": ramp([2], seed: Float(i))]) }
                expectFailure(naming: path, "row 2 was never written (2 of 5 missing)", kind: .invalidValue) { try writer.commit() }
                #expect(!FileManager.default.fileExists(atPath: path))
            }
            #expect(try contents(folder).isEmpty)
        }
    }

    @Test func badRowsAreRefusedAndWriteNothing() throws {
        try withScratchFolder { folder in
            let path = folder + "/checked.safetensors"
            let writer = try SafeTensorsWriter.Rows(path: path, tensors: [("a", [2]), ("w", [3])], rows: 2, metadata: [:])
            let good = ["a": ramp([2], seed: 1), "w": ramp([3], seed: 2)]
            for row in [-1, 2] {
                expectFailure(naming: path, "row \(row) is out of range (the file has 2 rows)", kind: .invalidValue) {
                    try writer.write(row: row, good)
                }
            }
            expectFailure(naming: path, #"row 0: tensor "w" is missing"#, kind: .invalidValue) {
                try writer.write(row: 0, ["a": good["a"]!])
            }
            expectFailure(naming: path, #"row 0: no tensor named "b""#, kind: .invalidValue) {
                try writer.write(row: 0, good.merging(["b": ramp([2], seed: 0)]) { a, _ in a })
            }
            try writer.write(row: 0, good)
            try writer.write(row: 1, good)
            // "a" is fine, "w" is not: neither may land, so row 0 keeps what it had.
            expectFailure(naming: path, #"row 0: tensor "w" has 4 values, but a row holds 3"#, kind: .invalidValue) {
                try writer.write(row: 0, ["a": ramp([2], seed: 50), "w": ramp([4], seed: 60)])
            }
            try writer.commit()
            let file = try SafeTensorsFile(path: path)
            #expect(try file.tensor("a") == Tensor(shape: [2, 2], values: good["a"]!.scalars + good["a"]!.scalars))
        }
    }

    @Test func badTensorListsAreRefused() throws {
        try withScratchFolder { folder in
            let path = folder + "/x.safetensors"
            expectFailure(naming: path, #"two tensors named "w""#, kind: .invalidValue) {
                _ = try SafeTensorsWriter.Rows(path: path, tensors: [("w", [1]), ("w", [2])], rows: 1, metadata: [:])
            }
            expectFailure(naming: path, "reserved", kind: .invalidValue) {
                _ = try SafeTensorsWriter.Rows(path: path, tensors: [("__metadata__", [1])], rows: 1, metadata: [:])
            }
            expectFailure(naming: path, "cannot write -1 rows", kind: .invalidValue) {
                _ = try SafeTensorsWriter.Rows(path: path, tensors: [("w", [1])], rows: -1, metadata: [:])
            }
            expectFailure(naming: path, #"tensor "w" cannot have shape [2, -3]"#, kind: .invalidValue) {
                _ = try SafeTensorsWriter.Rows(path: path, tensors: [("w", [-3])], rows: 2, metadata: [:])
            }
            let left = try contents(folder)
            #expect(left.isEmpty)
        }
    }
}

@Suite("Streaming: NpzArchive.RowWriter")
struct NpzRowWriterTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let key: String
        let rowShape: [Int]
        let rows: Int
        var testDescription: String { "\(key) \([rows] + rowShape)" }
    }

    @Test(arguments: [
        Case(key: "w", rowShape: [18, 8], rows: 9),  // projected_w.npz's layout, fewer and narrower
        Case(key: "losses", rowShape: [], rows: 40),  // one value per frame: a 1-D array
        Case(key: "latents_é", rowShape: [2, 3], rows: 3),  // a name that needs the UTF-8 flag
        Case(key: "none", rowShape: [4], rows: 0),
    ])
    func bytesMatchTheWholeFileWriterAndReadBack(_ c: Case) throws {
        let whole = ramp([c.rows] + c.rowShape, seed: -3)
        try withScratchFolder { folder in
            let reference = folder + "/whole.npz"
            let streamed = folder + "/rows.npz"
            try NpzArchive.write([(c.key, whole)], to: reference)
            let writer = try NpzArchive.RowWriter(path: streamed, key: c.key, rowShape: c.rowShape, rows: c.rows)
            for i in 0..<c.rows { try writer.append(whole.slice(i..<(i + 1)).reshaped(c.rowShape)) }
            try writer.commit()
            #expect(try AtomicFile.read(streamed) == AtomicFile.read(reference))
            let back = try NpzArchive.read(path: streamed)
            #expect(Array(back.keys) == [c.key])
            #expect(back[c.key] == whole)
            #expect(try contents(folder) == ["rows.npz", "whole.npz"])
        }
    }

    /// An export's npz: the streamed latents, then the frame indices after them.
    @Test func arraysAfterTheStreamedOneMatchTheWholeFileWriter() throws {
        let whole = ramp([5, 3, 4], seed: 2)
        let frames = Tensor(shape: [5], values: [0, 2, 3, 7, 9])
        try withScratchFolder { folder in
            try NpzArchive.write([("w", whole), ("frames", frames)], to: folder + "/whole.npz")
            let writer = try NpzArchive.RowWriter(path: folder + "/rows.npz", key: "w", rowShape: [3, 4], rows: 5)
            for i in 0..<5 { try writer.append(whole.slice(i..<(i + 1))) }
            try writer.commit(then: [("frames", frames)])
            #expect(try AtomicFile.read(folder + "/rows.npz") == AtomicFile.read(folder + "/whole.npz"))
            #expect(try NpzArchive.read(path: folder + "/rows.npz")["frames"] == frames)
            // Two members named w.npy: refused, and the file never appears (once the writer is gone).
            try {
                let twice = try NpzArchive.RowWriter(path: folder + "/twice.npz", key: "w", rowShape: [1], rows: 0)
                #expect(throws: LinstoryError.self) { try twice.commit(then: [("w", frames)]) }
            }()
            #expect(try contents(folder) == ["rows.npz", "whole.npz"])
        }
    }

    @Test func missingRowsRefuseCommitAndLeaveNoFile() throws {
        try withScratchFolder { folder in
            let path = folder + "/partial.npz"
            do {
                let writer = try NpzArchive.RowWriter(path: path, key: "w", rowShape: [2], rows: 3)
                try writer.append(ramp([2], seed: 0))
                try writer.append(ramp([2], seed: 1))
                expectFailure(naming: path, "only 2 of 3 rows were appended", kind: .invalidValue) { try writer.commit() }
                #expect(!FileManager.default.fileExists(atPath: path))
            }
            #expect(try contents(folder).isEmpty)
        }
    }

    @Test func extraAndMisshapenRowsAreRefused() throws {
        try withScratchFolder { folder in
            let path = folder + "/x.npz"
            let writer = try NpzArchive.RowWriter(path: path, key: "w", rowShape: [2, 2], rows: 1)
            expectFailure(naming: path, "row 0 has 3 values, but a row of shape [2, 2] holds 4", kind: .invalidValue) {
                try writer.append(ramp([3], seed: 0))
            }
            try writer.append(ramp([1, 4], seed: 0))  // any shape with the row's count
            expectFailure(naming: path, "already has all 1 rows", kind: .invalidValue) { try writer.append(ramp([4], seed: 0)) }
            try writer.commit()
            #expect(try NpzArchive.read(path: path)["w"] == ramp([1, 2, 2], seed: 0))
        }
    }

    /// The archive's own 4 GiB limit and words, checked before anything is written: one past where the
    /// member would cross 4 GiB, and the largest member whose central directory would still cross it.
    @Test func refusesWhatZipWithoutZip64CannotHold() throws {
        // numpy pads the header so its length does not depend on the first dimension: [0] measures [n].
        let npyHeader = NpyArray.encode(Tensor(zeros: [0])).count
        let memberEnd = 0xFFFF_FFFF - 30 - "w.npy".utf8.count - npyHeader
        try withScratchFolder { folder in
            let path = folder + "/huge.npz"
            expectFailure(naming: path, "cannot write 'w.npy': zip archives without ZIP64 stop at 4 GiB", kind: .unsupported) {
                _ = try NpzArchive.RowWriter(path: path, key: "w", rowShape: [], rows: memberEnd / 4 + 1)
            }
            expectFailure(naming: path, "cannot write a zip archive over 4 GiB (no ZIP64 support)", kind: .unsupported) {
                _ = try NpzArchive.RowWriter(path: path, key: "w", rowShape: [], rows: memberEnd / 4)
            }
            let left = try contents(folder)
            #expect(left.isEmpty)
        }
    }
}

@Suite("Streaming: SafeTensorsRows")
struct SafeTensorsRowsReaderTests {
    /// A file from its parts: the 8-byte length, the JSON header and the data.
    static func safetensorsBytes(header: String, data: [UInt8]) -> [UInt8] {
        let json = Array(header.utf8)
        return withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json + data
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw LinstoryError(.unreadable, file: path, "cannot write test file")
        }
    }

    /// The `LinstoryError` that `body` throws; nil if it throws none.
    static func refusal(_ body: () throws -> Void) -> LinstoryError? {
        do {
            try body()
            return nil
        } catch {
            return error as? LinstoryError
        }
    }

    @Test func rowsAreSlicesOfTheWholeTensor() throws {
        let tensors = [
            ("w", ramp([6, 3, 4], seed: 1)), ("noise/n0", ramp([6, 1, 2, 2], seed: 2)), ("loss", ramp([6], seed: 3)),
        ]
        try withScratchFolder { folder in
            let path = folder + "/latents.safetensors"
            try SafeTensorsWriter.write(tensors, metadata: ["format": "latents"], to: path)
            let whole = try SafeTensorsFile(path: path)
            let rows = try SafeTensorsRows(path: path)
            #expect(rows.metadata == whole.metadata)
            #expect(rows.entries == whole.entries)
            #expect(rows.names == whole.names)
            for name in whole.names {
                let all = try whole.tensor(name)
                #expect(try rows.tensor(name) == all)
                for i in 0..<6 {
                    #expect(try rows.row(name, i) == all.slice(i..<(i + 1)).reshaped(Array(all.shape.dropFirst())))
                }
            }
        }
    }

    /// Stored F16, BF16 and F64 decode as `SafeTensorsFile` decodes them, row by row.
    @Test func otherFloatTypesDecodeLikeTheWholeFileReader() throws {
        let half: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x3555]
        let brain: [UInt16] = [0x3F80, 0xC040, 0x4049, 0x0001]
        let double: [Double] = [0.1, -2.5, 1e300, 1e-50, 3, 4]
        let header =
            #"{"h":{"dtype":"F16","shape":[3,2],"data_offsets":[0,12]},"#
            + #""b":{"dtype":"BF16","shape":[2,2],"data_offsets":[12,20]},"#
            + #""d":{"dtype":"F64","shape":[3,1,2],"data_offsets":[24,72]}}"#
        let data = Self.littleEndianBytes(half) + Self.littleEndianBytes(brain) + [0, 0, 0, 0]
            + Self.littleEndianBytes(double.map(\.bitPattern))
        try withScratchFolder { folder in
            let path = folder + "/mixed.safetensors"
            try Self.write(Self.safetensorsBytes(header: header, data: data), to: path)
            let whole = try SafeTensorsFile(path: path)
            let rows = try SafeTensorsRows(path: path)
            for name in ["h", "b", "d"] {
                let all = try whole.tensor(name)
                #expect(try rows.tensor(name).scalars.map(\.bitPattern) == all.scalars.map(\.bitPattern))
                for i in 0..<all.shape[0] {
                    let expected = all.slice(i..<(i + 1)).reshaped(Array(all.shape.dropFirst()))
                    let got = try rows.row(name, i)
                    #expect(got.shape == expected.shape)
                    #expect(got.scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern))
                }
            }
        }
    }

    @Test func badRequestsAreNamed() throws {
        let header =
            #"{"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"#
            + #""i":{"dtype":"I32","shape":[1],"data_offsets":[4,8]},"#
            + #""w":{"dtype":"F32","shape":[2,1],"data_offsets":[8,16]}}"#
        try withScratchFolder { folder in
            let path = folder + "/odd.safetensors"
            try Self.write(Self.safetensorsBytes(header: header, data: [UInt8](repeating: 0, count: 16)), to: path)
            let rows = try SafeTensorsRows(path: path)
            expectFailure(naming: path, #"no tensor named "v" (the file has 3)"#, kind: .notFound) { _ = try rows.row("v", 0) }
            expectFailure(naming: path, #"no tensor named "v""#, kind: .notFound) { _ = try rows.tensor("v") }
            for i in [-1, 2] {
                expectFailure(naming: path, #"row \#(i) of tensor "w" is out of range (it has 2)"#, kind: .invalidValue) {
                    _ = try rows.row("w", i)
                }
            }
            expectFailure(naming: path, #"tensor "s" is a scalar; it has no rows"#, kind: .invalidValue) { _ = try rows.row("s", 0) }
            expectFailure(naming: path, #"tensor "i" has dtype I32"#, kind: .unsupported) { _ = try rows.row("i", 0) }
            #expect(try rows.tensor("s") == Tensor(shape: [], values: [0]))
        }
    }

    /// Every cut of a valid file is judged exactly as the whole-file reader judges it (one parser, the
    /// file's size standing in for the bytes never read), so a truncated file is refused on open.
    @Test func truncatedFilesAreRefusedAsTheWholeFileReaderRefusesThem() throws {
        try withScratchFolder { folder in
            let valid = folder + "/valid.safetensors"
            try SafeTensorsWriter.write([("w", ramp([3, 2], seed: 0))], metadata: ["k": "v"], to: valid)
            let bytes = try AtomicFile.read(valid)
            for length in 0..<bytes.count {
                let path = folder + "/cut-\(length).safetensors"
                try Self.write(Array(bytes.prefix(length)), to: path)
                let expected = Self.refusal { _ = try SafeTensorsFile(path: path) }
                let got = Self.refusal { _ = try SafeTensorsRows(path: path) }
                #expect(got != nil && got == expected, "cut to \(length) bytes: \(String(describing: got))")
                #expect(got?.kind == .corrupt)
                #expect(got?.message.hasPrefix(path + ": ") == true)
                #expect(got?.message.contains("\n") == false)
            }
            let dataCut = folder + "/cut-\(bytes.count - 1).safetensors"
            expectFailure(naming: dataCut, "run past the end of the 23-byte data section", kind: .corrupt) {
                _ = try SafeTensorsRows(path: dataCut)
            }
            expectFailure(naming: folder + "/none", "cannot open", kind: .notFound) { _ = try SafeTensorsRows(path: folder + "/none") }
        }
    }

    /// `init` reads the header only: rows come from the disk as it is when they are asked for, and a file
    /// that shrinks after opening is reported when a row it lost is read.
    @Test func rowsAreReadFromDiskWhenAskedFor() throws {
        try withScratchFolder { folder in
            let path = folder + "/live.safetensors"
            try SafeTensorsWriter.write([("w", ramp([4, 3], seed: 0))], metadata: [:], to: path)
            let rows = try SafeTensorsRows(path: path)
            let dataStart = try AtomicFile.read(path).count - 4 * 3 * 4

            let replacement = Tensor(shape: [3], values: [100, 200, 300])
            let handle = try #require(FileHandle(forUpdatingAtPath: path))
            try handle.seek(toOffset: UInt64(dataStart + 2 * 3 * 4))
            try handle.write(contentsOf: replacement.scalars.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })
            try handle.truncate(atOffset: UInt64(dataStart + 4 * 3 * 4 - 1))  // into row 3
            try handle.close()

            #expect(try rows.row("w", 2) == replacement)
            #expect(try rows.row("w", 0) == ramp([4, 3], seed: 0).slice(0..<1).reshaped([3]))
            expectFailure(naming: path, "is shorter than its header says: row 3 of tensor \"w\"", kind: .corrupt) {
                _ = try rows.row("w", 3)
            }
        }
    }

    /// Only `pread` on a descriptor it owns: rows read from many threads at once all come back right.
    @Test func rowsReadConcurrently() throws {
        let whole = ramp([64, 16], seed: 5)
        try withScratchFolder { folder in
            let path = folder + "/shared.safetensors"
            try SafeTensorsWriter.write([("w", whole)], metadata: [:], to: path)
            let rows = try SafeTensorsRows(path: path)
            let wrong = Mutex(0)
            DispatchQueue.concurrentPerform(iterations: 64 * 8) { k in
                let i = k % 64
                let ok = (try? rows.row("w", i)) == whole.slice(i..<(i + 1)).reshaped([16])
                if !ok { wrong.withLock { $0 += 1 } }
            }
            #expect(wrong.withLock { $0 } == 0)
        }
    }
}
