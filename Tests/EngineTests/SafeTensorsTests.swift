import Engine
import Foundation
import Testing

// Over 400 lines on purpose: the format's reader, writer and every hostile header case share the
// byte-level builders below.

/// The repository root, found from this file's place in it: Tests/EngineTests/SafeTensorsTests.swift.
private let repoRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Written by Python's `safetensors` from the StyleGAN2 tiny32 generator.
private let tiny32Weights = repoRoot.appendingPathComponent("Tests/Fixtures/stylegan2/tiny32/weights.safetensors").path

/// A fresh folder per test, removed afterwards, so tests running in parallel never share a file.
private func withScratchFolder<R>(_ body: (String) throws -> R) throws -> R {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-safetensors-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// A file from its parts, so that each case spells out only what it breaks. `headerLength` overrides the
/// true length of `header`.
private func safetensorsBytes(header: String, data: [UInt8] = [], headerLength: UInt64? = nil) -> [UInt8] {
    let json = Array(header.utf8)
    let length = headerLength ?? UInt64(json.count)
    return withUnsafeBytes(of: length.littleEndian) { Array($0) } + json + data
}

/// Plain stdio rather than `Data.write`, which is ten times slower here and the corruption test writes
/// over a thousand files.
private func writeFile(_ bytes: [UInt8], _ path: String) throws {
    guard let file = fopen(path, "wb") else { throw LinstoryError(.unreadable, file: path, "cannot create test file") }
    let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    guard fclose(file) == 0, written == bytes.count else { throw LinstoryError(.unreadable, file: path, "cannot write test file") }
}

private func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
}

/// Bitwise, so that -0.0 and NaN payloads count.
private func sameBits(_ a: [Float], _ b: [Float]) -> Bool {
    a.map(\.bitPattern) == b.map(\.bitPattern)
}

@Suite("SafeTensors: the Python-written fixture")
struct SafeTensorsFixtureTests {
    @Test func listsNamesShapesAndMetadata() throws {
        let file = try SafeTensorsFile(path: tiny32Weights)
        #expect(file.path == tiny32Weights)
        #expect(file.names.count == 75)
        #expect(file.names == file.names.sorted())
        #expect(file.names.first == "mapping.fc0.bias")
        #expect(file.entries.values.allSatisfy { $0.dtype == .f32 })
        #expect(file.entries["mapping.fc0.weight"]?.shape == [64, 64])
        #expect(file.entries["synthesis.b4.conv1.weight"]?.shape == [64, 64, 3, 3])
        #expect(file.entries["synthesis.b16.conv0.noise_strength"]?.shape == [])
        #expect(file.entries["mapping.fc0.weight"]?.byteRange == 256..<16640)
        #expect(Set(file.metadata.keys) == ["format", "config"])
        #expect(file.metadata["format"] == "stylegan2-ada-pytorch G_ema state_dict")
        #expect(file.metadata["config"]?.hasPrefix(#"{"z_dim": 64, "w_dim": 64, "img_resolution": 32"#) == true)
    }

    // Expected values from numpy over the same bytes:
    //   np.frombuffer(f[base+b:base+e], '<f4') with (b, e) from the header parsed by json/struct.
    @Test func valuesMatchNumpy() throws {
        let file = try SafeTensorsFile(path: tiny32Weights)

        let fc0 = try file.tensor("mapping.fc0.weight")
        #expect(fc0.shape == [64, 64])
        #expect(fc0[flat: 0] == 85.25346374511719)
        #expect(fc0[flat: 100] == -32.911033630371094)
        #expect(fc0[flat: 4095] == 18.1181640625)
        let sum = fc0.scalars.reduce(0.0) { $0 + Double($1) }
        // float64 sums of the same 4,096 float32 values in two orders (numpy pairwise, here sequential):
        // <= 4096 * 2^-53 * sum|x| (~1.3e5 here) ~ 6e-8 apart; 1e-9 * 8004 = 8e-6. One wrong value moves it by >= 1e-3.
        #expect(abs(sum - 8004.429658208042) < 1e-9 * 8004)

        let const4 = try file.tensor("synthesis.b4.const")
        #expect(const4.shape == [64, 4, 4])
        #expect(const4[flat: 0] == -1.5255959033966064)
        #expect(const4[flat: 1023] == 1.0561524629592896)

        let strength = try file.tensor("synthesis.b16.conv0.noise_strength")
        #expect(strength.shape == [] && strength.count == 1)
        #expect(strength[flat: 0] == -0.25864842534065247)

        #expect(
            try file.tensor("synthesis.b32.torgb.bias").scalars == [
                -0.16172069311141968, -0.4900425374507904, -0.09600431472063065,
            ])
        #expect(try file.tensor("synthesis.b4.resample_filter").scalars.allSatisfy { $0 > 0 })
    }

    @Test func everyTensorLoadsAndIsFinite() throws {
        let file = try SafeTensorsFile(path: tiny32Weights)
        for name in file.names {
            let entry = try #require(file.entries[name])
            let t = try file.tensor(name)
            #expect(t.shape == entry.shape)
            #expect(t.count == entry.elementCount)
            #expect(try file.rawBytes(name).count == entry.byteRange.count)
        }
        try file.validateAllFinite()
    }

    /// Reading the fixture and writing it back must reproduce the Python library's layout: the same
    /// entries (dtype, shape, data_offsets) and a byte-identical data section. The headers themselves
    /// differ only in metadata key order (Python keeps insertion order, we sort).
    @Test func rewritingTheFixtureReproducesItsLayout() throws {
        let file = try SafeTensorsFile(path: tiny32Weights)
        let tensors = try file.names.map { ($0, try file.tensor($0)) }
        try withScratchFolder { folder in
            let copy = folder + "/copy.safetensors"
            try SafeTensorsWriter.write(tensors, metadata: file.metadata, to: copy)
            let reread = try SafeTensorsFile(path: copy)
            #expect(reread.names == file.names)
            #expect(reread.metadata == file.metadata)
            for name in file.names {
                #expect(reread.entries[name] == file.entries[name])
                #expect(try reread.tensor(name) == file.tensor(name))
            }
            let original = try #require(FileManager.default.contents(atPath: tiny32Weights))
            let written = try #require(FileManager.default.contents(atPath: copy))
            // Data sections are byte-identical once each file's own header is skipped.
            func dataSection(_ d: Data) -> Data {
                let n = d.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
                return d.dropFirst(8 + n)
            }
            #expect(dataSection(written) == dataSection(original))
        }
    }
}

@Suite("SafeTensors: writing and decoding")
struct SafeTensorsRoundTripTests {
    @Test func roundTripKeepsShapesValuesAndMetadata() throws {
        let subnormal = Float(bitPattern: 0x000F_FFFF)
        let weight = Tensor(shape: [2, 3], values: [1, -2, 3.5, .pi, -0.0, subnormal])
        let scalar = Tensor(shape: [], values: [42])
        let empty = Tensor(zeros: [0, 3])
        let metadata = ["format": "pt", "note": "quote \" backslash \\ newline \n tab \t bell \u{7} é 漢"]
        try withScratchFolder { folder in
            let path = folder + "/round.safetensors"
            try SafeTensorsWriter.write(
                [("w", weight), ("s", scalar), ("empty", empty)], metadata: metadata, to: path)
            let file = try SafeTensorsFile(path: path)
            #expect(file.names == ["empty", "s", "w"])
            #expect(file.metadata == metadata)
            #expect(file.entries["empty"]?.shape == [0, 3])
            #expect(file.entries["empty"]?.byteRange.isEmpty == true)
            #expect(sameBits(try file.tensor("w").scalars, weight.scalars))
            #expect(try file.tensor("w").shape == [2, 3])
            #expect(try file.tensor("s") == scalar)
            #expect(try file.tensor("empty") == empty)
        }
    }

    /// The header Python's `safetensors` would write for the same input, byte for byte.
    @Test func headerMatchesPythonLayoutAndIsPadded() throws {
        try withScratchFolder { folder in
            let path = folder + "/layout.safetensors"
            try SafeTensorsWriter.write(
                [("b", Tensor(shape: [], values: [1])), ("a", Tensor(shape: [2], values: [2, 3]))],
                metadata: ["format": "pt"], to: path)
            let bytes = try #require(FileManager.default.contents(atPath: path)).map { $0 }
            let n = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            #expect(n % 8 == 0)
            let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
            let json =
                #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
                + #""b":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}"#
            #expect(header == json + String(repeating: " ", count: n - json.utf8.count))
            #expect(bytes.count == 8 + n + 12)
            #expect(Array(bytes[(8 + n)...]) == littleEndianBytes([Float(2), 3, 1].map(\.bitPattern)))
        }
    }

    @Test func outputIsDeterministicAndOverwritesAtomically() throws {
        let a = Tensor(shape: [3], values: [1, 2, 3])
        let b = Tensor(shape: [1, 2], values: [4, 5])
        try withScratchFolder { folder in
            let first = folder + "/first.safetensors"
            let second = folder + "/second.safetensors"
            try SafeTensorsWriter.write([("a", a), ("b", b)], metadata: ["x": "1", "y": "2"], to: first)
            try SafeTensorsWriter.write([("b", b), ("a", a)], metadata: ["y": "2", "x": "1"], to: second)
            #expect(FileManager.default.contents(atPath: first) == FileManager.default.contents(atPath: second))

            try SafeTensorsWriter.write([("c", a)], metadata: [:], to: first)
            let replaced = try SafeTensorsFile(path: first)
            #expect(replaced.names == ["c"])
            #expect(replaced.metadata.isEmpty)
            // No temp file is left behind next to the target.
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
                    == ["first.safetensors", "second.safetensors"])
        }
    }

    @Test func writerRejectsBadNamesAndUnwritablePaths() throws {
        let t = Tensor(shape: [1], values: [0])
        try withScratchFolder { folder in
            let path = folder + "/bad.safetensors"
            let duplicate = #expect(throws: LinstoryError.self) {
                try SafeTensorsWriter.write([("w", t), ("w", t)], metadata: [:], to: path)
            }
            #expect(duplicate?.message == #"\#(path): two tensors named "w""#)
            #expect(duplicate?.kind == .invalidValue)
            let reserved = #expect(throws: LinstoryError.self) {
                try SafeTensorsWriter.write([("__metadata__", t)], metadata: [:], to: path)
            }
            #expect(reserved?.message.hasPrefix(path + ": ") == true)
            #expect(reserved?.kind == .invalidValue)
            let missingFolder = folder + "/no/such/folder/x.safetensors"
            let unwritable = #expect(throws: LinstoryError.self) {
                try SafeTensorsWriter.write([("w", t)], metadata: [:], to: missingFolder)
            }
            #expect(unwritable?.message.hasPrefix(missingFolder + ": ") == true)
            #expect(unwritable?.kind == .notFound)
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    /// Float16 values checked against numpy: `np.array(bits, '<u2').view('<f2').astype(np.float32)`.
    @Test func decodesF16() throws {
        let bits: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x8000, 0x7C00, 0xFC00, 0x3555, 0x7E00]
        let expected: [Float] = [
            1.0, -2.0, 65504.0, 5.960464477539063e-08, 6.097555160522461e-05, -0.0, .infinity, -.infinity,
            0.333251953125,
        ]
        let header = #"{"h":{"dtype":"F16","shape":[2,5],"data_offsets":[0,20]}}"#
        let values = try decode(header: header, data: littleEndianBytes(bits), name: "h")
        #expect(values.shape == [2, 5])
        #expect(sameBits(Array(values.scalars.prefix(9)), expected))
        #expect(values[flat: 9].isNaN)
    }

    /// Every one of the 65536 half values against the platform's own conversion, where it has one.
    @Test func decodesEveryF16BitPattern() throws {
        #if !((os(macOS) || os(iOS)) && arch(x86_64))
            let bits = (0...UInt16.max).map { $0 }
            let header = #"{"h":{"dtype":"F16","shape":[65536],"data_offsets":[0,131072]}}"#
            let values = try decode(header: header, data: littleEndianBytes(bits), name: "h").scalars
            // One expectation for the lot, so a broken conversion reports a few patterns, not 65536 issues.
            let wrong = zip(bits, values).filter { b, v in
                let reference = Float(Float16(bitPattern: b))
                return reference.isNaN ? !v.isNaN : v.bitPattern != reference.bitPattern
            }
            #expect(
                wrong.isEmpty,
                "\(wrong.count) wrong, first: \(wrong.prefix(4).map { "0x\(String($0.0, radix: 16)) -> \($0.1)" })")
        #endif
    }

    /// bfloat16 is the top half of a float32: `(bits << 16).view(np.float32)`.
    @Test func decodesBF16() throws {
        let bits: [UInt16] = [0x3F80, 0xC040, 0x4049, 0x0001, 0x7F80, 0x8000]
        let header = #"{"b":{"dtype":"BF16","shape":[6],"data_offsets":[0,12]}}"#
        let values = try decode(header: header, data: littleEndianBytes(bits), name: "b").scalars
        #expect(sameBits(values, [1.0, -3.0, 3.140625, Float(bitPattern: 0x0001_0000), .infinity, -0.0]))
    }

    /// `np.array(values).astype(np.float32)`: round to nearest, overflow to Inf, underflow to 0.
    @Test func decodesF64() throws {
        let doubles: [Double] = [0.1, -2.5, 1e300, 1e-50]
        let header = #"{"d":{"dtype":"F64","shape":[2,2],"data_offsets":[0,32]}}"#
        let values = try decode(header: header, data: littleEndianBytes(doubles.map(\.bitPattern)), name: "d")
        #expect(values.shape == [2, 2])
        #expect(sameBits(values.scalars, [0.10000000149011612, -2.5, .infinity, 0.0]))
    }

    @Test func integerTensorsAreListedButNotLoaded() throws {
        let header =
            #"{"steps":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"#
            + #""mask":{"dtype":"BOOL","shape":[3],"data_offsets":[16,19]}}"#
        let data = littleEndianBytes([Int64(7), -1]) + [1, 0, 1]
        try withScratchFolder { folder in
            let path = folder + "/ints.safetensors"
            try writeFile(safetensorsBytes(header: header, data: data), path)
            let file = try SafeTensorsFile(path: path)
            #expect(file.entries["steps"]?.dtype == .i64)
            #expect(file.entries["mask"]?.dtype == .bool)
            #expect(try file.rawBytes("steps") == littleEndianBytes([Int64(7), -1]))
            #expect(try file.rawBytes("mask") == [1, 0, 1])
            let error = #expect(throws: LinstoryError.self) { try file.tensor("steps") }
            #expect(error?.message.hasPrefix(path + #": tensor "steps" has dtype I64"#) == true)
            #expect(error?.kind == .unsupported)
            try file.validateFinite("steps")
        }
    }

    @Test func unknownNameAndMissingFileAreErrors() throws {
        let file = try SafeTensorsFile(path: tiny32Weights)
        let unknown = #expect(throws: LinstoryError.self) { try file.tensor("mapping.fc9.weight") }
        #expect(unknown?.message == #"\#(tiny32Weights): no tensor named "mapping.fc9.weight" (the file has 75)"#)
        #expect(unknown?.kind == .notFound)
        let missing = "/nonexistent/linstory/x.safetensors"
        let error = #expect(throws: LinstoryError.self) { try SafeTensorsFile(path: missing) }
        #expect(error?.message.hasPrefix(missing + ": cannot open") == true)
        #expect(error?.kind == .notFound)
    }

    @Test func validateFiniteNamesTheFirstBadElement() throws {
        let values: [Float] = [0, 1, 2, 3, .nan, .infinity]
        try withScratchFolder { folder in
            let path = folder + "/bad.safetensors"
            try SafeTensorsWriter.write(
                [
                    ("ok", Tensor(shape: [2], values: [1, 2])), ("w", Tensor(shape: [2, 3], values: values)),
                    ("z", Tensor(shape: [1], values: [-.infinity])),
                ],
                metadata: [:], to: path)
            let file = try SafeTensorsFile(path: path)
            try file.validateFinite("ok")
            let nan = #expect(throws: LinstoryError.self) { try file.validateFinite("w") }
            #expect(nan?.message == #"\#(path): tensor "w" has NaN at index [1, 1] (element 4 of 6)"#)
            #expect(nan?.kind == .corrupt)
            let inf = #expect(throws: LinstoryError.self) { try file.validateFinite("z") }
            #expect(inf?.message == #"\#(path): tensor "z" has -Inf at index [0] (element 0 of 1)"#)
            #expect(inf?.kind == .corrupt)
            let all = #expect(throws: LinstoryError.self) { try file.validateAllFinite() }
            #expect(all == nan)
        }
    }

    @Test func validateFiniteExplainsF64Overflow() throws {
        let header = #"{"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}"#
        let data = littleEndianBytes([1.0, 1e300].map(\.bitPattern))
        try withScratchFolder { folder in
            let path = folder + "/f64.safetensors"
            try writeFile(safetensorsBytes(header: header, data: data), path)
            let error = #expect(throws: LinstoryError.self) { try SafeTensorsFile(path: path).validateFinite("d") }
            #expect(error?.message.contains("1e+300, which overflows float32 at index [1]") == true)
            #expect(error?.kind == .corrupt)
        }
    }

    private func decode(header: String, data: [UInt8], name: String) throws -> Tensor {
        try withScratchFolder { folder in
            let path = folder + "/decode.safetensors"
            try writeFile(safetensorsBytes(header: header, data: data), path)
            return try SafeTensorsFile(path: path).tensor(name)
        }
    }
}

@Suite("SafeTensors: hostile files")
struct SafeTensorsHostileTests {
    @Test(arguments: Case.all)
    func rejected(_ hostile: Case) throws {
        try withScratchFolder { folder in
            let path = folder + "/hostile.safetensors"
            try writeFile(hostile.bytes, path)
            let error = #expect(throws: LinstoryError.self) { try SafeTensorsFile(path: path) }
            let message = error?.message ?? ""
            #expect(message.hasPrefix(path + ": "), "message: \(message)")
            for words in hostile.expected {
                #expect(message.contains(words), "message: \(message)")
            }
            #expect(!message.unicodeScalars.contains { $0.value < 0x20 }, "raw control character in: \(message)")
            #expect(error?.kind == hostile.kind, "message: \(message)")
        }
    }

    /// Every truncation, and every header byte overwritten with values that upset a parser, must end in a
    /// `LinstoryError` or a clean load, never a crash or a read past the buffer (debug builds trap on one).
    @Test func corruptedFilesFailCleanly() throws {
        let header =
            #"{"__metadata__":{"k":"v"},"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"#
            + #""b":{"dtype":"F32","shape":[1,2],"data_offsets":[4,12]}}"#
        let valid = safetensorsBytes(header: header, data: [UInt8](repeating: 0x3C, count: 12))
        var variants = (0..<valid.count).map { Array(valid.prefix($0)) }
        // Overwrites stop at the data section: its bytes are never parsed, only copied.
        for i in 0..<(8 + header.utf8.count) {
            for b in [0xFF, UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "\"")] {
                var v = valid
                v[i] = b
                variants.append(v)
            }
        }
        try withScratchFolder { folder in
            for (n, bytes) in variants.enumerated() {
                // A fresh name each time: truncating and rewriting one file is slow on ext4.
                let path = folder + "/corrupt-\(n).safetensors"
                try writeFile(bytes, path)
                do {
                    let file = try SafeTensorsFile(path: path)
                    for name in file.names {
                        _ = try file.rawBytes(name)
                        if file.entries[name]?.dtype.loadsAsFloat == true { _ = try file.tensor(name) }
                    }
                } catch let error as LinstoryError {
                    #expect(error.message.hasPrefix(path + ": "))
                }
            }
        }
    }

    /// Gaps between tensors and empty tensors anywhere are legal: only shared bytes are an error.
    @Test func gapsAndEmptyTensorsAreAccepted() throws {
        let header =
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
            + #""e":{"dtype":"F32","shape":[0,5],"data_offsets":[2,2]},"#
            + #""b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}  "#
        try withScratchFolder { folder in
            let path = folder + "/gaps.safetensors"
            try writeFile(
                safetensorsBytes(header: header, data: littleEndianBytes([Float(1), 0, 2].map(\.bitPattern))), path)
            let file = try SafeTensorsFile(path: path)
            #expect(try file.tensor("a").scalars == [1])
            #expect(try file.tensor("b").scalars == [2])
            #expect(try file.tensor("e").shape == [0, 5])
        }
    }
}

extension SafeTensorsHostileTests {
    /// A malformed file, the words its error must contain besides the path it must start with, and
    /// the error's kind (most damage is `.corrupt`).
    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let bytes: [UInt8]
        let expected: [String]
        var kind: LinstoryError.Kind = .corrupt
        var testDescription: String { label }

        /// One entry `w` whose JSON is `entry`, over `dataSize` zero bytes.
        static func entry(
            _ label: String, _ entry: String, dataSize: Int = 8, expect: String, kind: LinstoryError.Kind = .corrupt
        ) -> Case {
            Case(
                label: label,
                bytes: safetensorsBytes(header: #"{"w":\#(entry)}"#, data: [UInt8](repeating: 0, count: dataSize)),
                expected: [#"tensor "w": "#, expect], kind: kind)
        }

        static let all: [Case] = [
            Case(
                label: "file shorter than 8 bytes", bytes: [1, 2, 3], expected: ["3 bytes, shorter than the 8-byte"]),
            Case(
                label: "header length past the end of the file",
                bytes: safetensorsBytes(header: "{}", headerLength: 1000),
                expected: ["header length 1000 runs past the end of the 10-byte file"]),
            Case(
                label: "absurd header length",
                bytes: safetensorsBytes(header: "{}", headerLength: 200_000_000),
                expected: ["header length 200000000 is absurd"], kind: .tooLarge),
            Case(
                label: "header length beyond Int",
                bytes: safetensorsBytes(header: "{}", headerLength: .max),
                expected: ["header length 18446744073709551615 is absurd"], kind: .tooLarge),
            Case(
                label: "header not valid JSON", bytes: safetensorsBytes(header: #"{"w": "#),
                expected: ["header is not valid JSON: unexpected end of text at file offset 14"]),
            Case(
                label: "header with invalid UTF-8",
                bytes: safetensorsBytes(header: "{\"w\u{7F}\":1}").map { $0 == 0x7F ? 0xFF : $0 },
                expected: ["header is not valid JSON: string is not valid UTF-8"]),
            Case(
                label: "duplicate tensor name",
                bytes: safetensorsBytes(header: #"{"w":{}, "w":{}}"#), expected: [#"duplicate key "w""#]),
            Case(
                label: "header not an object", bytes: safetensorsBytes(header: "[1, 2]"),
                expected: ["header is an array, not a JSON object"]),
            Case(
                label: "metadata value not a string",
                bytes: safetensorsBytes(header: #"{"__metadata__":{"k":1}}"#),
                expected: [#"__metadata__ value for "k" is a number, not a string"#]),
            .entry("entry not an object", "[1]", expect: "entry is an array, not an object"),
            .entry("missing dtype", #"{"shape":[2],"data_offsets":[0,8]}"#, expect: #"missing "dtype""#),
            .entry("missing shape", #"{"dtype":"F32","data_offsets":[0,8]}"#, expect: #"missing "shape""#),
            .entry("missing data_offsets", #"{"dtype":"F32","shape":[2]}"#, expect: #"missing "data_offsets""#),
            .entry(
                "dtype not a string", #"{"dtype":32,"shape":[2],"data_offsets":[0,8]}"#,
                expect: #""dtype" is a number, not a string"#),
            .entry(
                "shape not an array", #"{"dtype":"F32","shape":"2","data_offsets":[0,8]}"#,
                expect: #""shape" is a string, not an array"#),
            .entry(
                "dim not a number", #"{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}"#,
                expect: "shape[0] is a string, not an integer"),
            .entry(
                "data_offsets not an array", #"{"dtype":"F32","shape":[2],"data_offsets":{"begin":0}}"#,
                expect: #""data_offsets" is an object, not an array"#),
            .entry(
                "data_offsets not a pair", #"{"dtype":"F32","shape":[2],"data_offsets":[0]}"#,
                expect: #""data_offsets" should be [begin, end] but has length 1"#),
            .entry(
                "data_offset not a number", #"{"dtype":"F32","shape":[2],"data_offsets":[0,null]}"#,
                expect: "data_offsets[1] is null, not an integer"),
            .entry(
                "negative dim", #"{"dtype":"F32","shape":[2,-1],"data_offsets":[0,8]}"#,
                expect: "shape[1] is -1, negative"),
            .entry(
                "fractional dim", #"{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}"#,
                expect: "shape[0] is 2.5, not an integer"),
            .entry(
                "exponent dim", #"{"dtype":"F32","shape":[2e0],"data_offsets":[0,8]}"#,
                expect: "shape[0] is 2e0, not an integer"),
            .entry(
                "dim beyond Int", #"{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,8]}"#,
                expect: "shape[0] is 99999999999999999999, out of range"),
            .entry(
                "shape product overflow", #"{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}"#,
                expect: "shape [4294967296, 4294967296] has too many elements to count (overflow)"),
            .entry(
                "byte size overflow", #"{"dtype":"F32","shape":[2305843009213693952],"data_offsets":[0,8]}"#,
                expect: "shape [2305843009213693952] of F32 has too many bytes to count (overflow)"),
            .entry(
                "negative offset", #"{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}"#,
                expect: "data_offsets[0] is -8, negative"),
            .entry(
                "end before begin", #"{"dtype":"F32","shape":[2],"data_offsets":[8,0]}"#,
                expect: "data_offsets [8, 0] end before they begin"),
            .entry(
                "end beyond the data section", #"{"dtype":"F32","shape":[2],"data_offsets":[4,12]}"#,
                expect: "data_offsets [4, 12] run past the end of the 8-byte data section"),
            .entry(
                "size does not match shape", #"{"dtype":"F32","shape":[3],"data_offsets":[0,8]}"#,
                expect: "data_offsets [0, 8] hold 8 bytes, but shape [3] of F32 needs 12"),
            .entry(
                "unknown dtype", #"{"dtype":"F17","shape":[2],"data_offsets":[0,8]}"#, expect: #"unknown dtype "F17""#,
                kind: .unsupported),
            Case(
                label: "overlapping tensors",
                bytes: safetensorsBytes(
                    header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
                        + #""b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"#
                        + #""c":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                    data: [UInt8](repeating: 0, count: 12)),
                expected: [#"tensors "a" and "c" overlap (data_offsets [0, 8] and [4, 12])"#]),
            Case(
                label: "control characters in a name are escaped in the message",
                bytes: safetensorsBytes(
                    header: "{\"evil\\u001b[2J\":{\"dtype\":\"F17\",\"shape\":[],\"data_offsets\":[0,0]}}"),
                expected: [#"tensor "evil\u001b[2J": unknown dtype"#], kind: .unsupported),
        ]
    }
}
