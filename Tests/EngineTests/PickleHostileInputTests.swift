import Engine
import Foundation
import Testing
import TestSupport

/// Pickles and torch.save files made to hurt: each must be refused with one clean `LinstoryError`,
/// quickly, without running anything, crashing, hanging or allocating more than the file could hold.
@Suite("Hostile pickles and torch files")
struct PickleHostileInputTests {
    /// Runs `body`, which must fail with a LinstoryError, within `seconds` (generous: the machine is shared,
    /// and what this catches is quadratic work or a hang, minutes not seconds); returns the message.
    /// When `kind` is given, the error must be of that kind.
    static func refusal(
        within seconds: Double = 10, kind: LinstoryError.Kind? = nil, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> Void
    ) -> String {
        let start = ContinuousClock.now
        var caught: LinstoryError?
        let message = linstoryFailure {
            do { try body() } catch let error as LinstoryError {
                caught = error
                throw error
            }
        }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed < .milliseconds(Int(seconds * 1000)), "took \(elapsed)")
        #expect(message != nil, "was accepted")
        #expect(message?.hasPrefix("not a LinstoryError") != true, "\(message ?? "")")
        if let kind { #expect(caught?.kind == kind, "\(message ?? "")", sourceLocation: sourceLocation) }
        return message ?? ""
    }

    static func plain(
        _ w: PickleWriter, kind: LinstoryError.Kind? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) -> String {
        refusal(kind: kind, sourceLocation: sourceLocation) { _ = try NetworkSnapshot(bytes: w.bytes, name: "evil.pkl") }
    }

    /// `module.name(arg)`, as a pickle that runs a command would be written, by GLOBAL and by STACK_GLOBAL.
    @Test(arguments: [
        ("os", "system"), ("posix", "system"), ("builtins", "eval"), ("builtins", "exec"), ("__builtin__", "eval"),
        ("subprocess", "Popen"), ("subprocess", "check_output"), ("subprocess", "run"), ("builtins", "getattr"),
        ("torch", "load"), ("numpy", "load"), ("torch_utils.persistence", "persistent_class"), ("training.networks", "Generator"),
    ])
    func forbiddenGlobalsAreNamed(module: String, name: String) {
        var w = PickleWriter()
        w.global(module, name)
        w.string("touch /tmp/linstory-pwned")
        w.raw([0x85])  // TUPLE1
        w.reduce()
        w.stop()
        #expect(Self.plain(w, kind: .unsupported).contains("refers to the global '\(module).\(name)', which linstory refuses to load"))

        var s = PickleWriter(protocol: 4)
        s.string(module)
        s.string(name)
        s.raw([0x93])  // STACK_GLOBAL
        s.stop()
        #expect(Self.plain(s, kind: .unsupported).contains("'\(module).\(name)'"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/linstory-pwned"))
    }

    /// The same global inside a torch zip's data.pkl and inside a nested _load_from_bytes stream.
    @Test func forbiddenGlobalsAreRefusedInsideTorchFiles() throws {
        var w = PickleWriter()
        w.global("os", "system")
        w.string("id")
        w.raw([0x85])
        w.reduce()
        w.stop()
        let zip = try ZipArchive.archive([("archive/data.pkl", w.bytes)])
        #expect(Self.refusal(kind: .unsupported) { _ = try RosinalityCheckpoint(bytes: zip, name: "evil.pt") }.contains("'os.system'"))

        var outer = PickleWriter(protocol: 4)
        outer.global("torch.storage", "_load_from_bytes")
        outer.binBytes(Self.legacyStream(objectPickle: w.bytes))
        outer.raw([0x85])
        outer.reduce()
        outer.stop()
        #expect(Self.plain(outer, kind: .unsupported).contains("refers to the global 'os.system'"))
    }

    /// A legacy torch.save stream whose object pickle is `pickle`.
    static func legacyStream(objectPickle pickle: [UInt8]) -> [UInt8] {
        // The writer's first three pickles (magic, version, sys_info) hold no 0x2E byte inside them.
        let stream = TorchSaveWriter.legacy([])
        var stops = 0
        var at = stream.count
        for (i, b) in stream.enumerated() where b == 0x2E {
            stops += 1
            if stops == 3 { at = i + 1; break }
        }
        return Array(stream[..<at]) + pickle
    }

    @Test func nestedStreamsCannotNestAgain() {
        var inner = PickleWriter()
        inner.global("torch.storage", "_load_from_bytes")
        inner.stop()
        var outer = PickleWriter(protocol: 4)
        outer.global("torch.storage", "_load_from_bytes")
        outer.binBytes(Self.legacyStream(objectPickle: inner.bytes))
        outer.raw([0x85])
        outer.reduce()
        outer.stop()
        #expect(Self.plain(outer, kind: .unsupported).contains("no nested storage stream may appear"))
    }

    @Test func truncatedFilesFailCleanly() throws {
        for file in ["snapshot16.pkl", "rosinality16.pt", "rosinality16-legacy.pt"] {
            let bytes = try AtomicFile.read(Fixtures.path("checkpoints/\(file)"))
            var cuts = Array(stride(from: 0, to: bytes.count, by: max(1, bytes.count / 400)))
            cuts += [1, 2, 3, 5, 8, 13, 21, 34, bytes.count - 1, bytes.count - 22]
            let start = ContinuousClock.now
            for cut in cuts {
                let prefix = Array(bytes.prefix(cut))
                let message = linstoryFailure {
                    if file.hasSuffix(".pkl") {
                        _ = try NetworkSnapshot(bytes: prefix, name: file)
                    } else {
                        _ = try RosinalityCheckpoint(bytes: prefix, name: file)
                    }
                }
                #expect(message != nil && !message!.hasPrefix("not a LinstoryError"), "\(file) cut at \(cut): \(message ?? "accepted")")
            }
            #expect(ContinuousClock.now - start < .seconds(20))
        }
    }

    @Test func zipWithAMissingStorage() throws {
        let state: TorchSaveWriter.StateDict = [("a", Tensor(shape: [4], repeating: 1)), ("b", Tensor(shape: [2, 3], repeating: 2))]
        let bytes = try TorchSaveWriter.zip([("g_ema", state)], drop: 1)
        #expect(Self.refusal(kind: .corrupt) { _ = try RosinalityCheckpoint(bytes: bytes, name: "m.pt") }
            == "m.pt: tensor 'b': its storage 'archive/data/1' is missing from the archive")
    }

    @Test func storageShorterThanItsTensor() throws {
        let state: TorchSaveWriter.StateDict = [("a", Tensor(shape: [4], repeating: 1)), ("b", Tensor(shape: [2, 3], repeating: 2))]
        let bytes = try TorchSaveWriter.zip([("g_ema", state)], truncate: (index: 1, bytes: 4))
        #expect(Self.refusal(kind: .corrupt) { _ = try RosinalityCheckpoint(bytes: bytes, name: "s.pt") }
            == "s.pt: tensor 'b': its storage 'archive/data/1' holds 20 bytes, but is recorded as 6 float32 elements")
    }

    /// A tensor (in a zip data.pkl) whose storage record and shape are `numel` and `shape`.
    static func zipWithTensor(numel: Int, shape: [Int], strides: [Int]) throws -> [UInt8] {
        var w = PickleWriter()
        w.emptyDict()
        w.string("g_ema")
        w.emptyDict()
        w.string("w")
        w.global("torch._utils", "_rebuild_tensor_v2")
        w.mark()
        w.mark()
        w.string("storage"); w.global("torch", "FloatStorage"); w.string("0"); w.string("cpu"); w.int(numel)
        w.tuple()
        w.binPersId()
        w.int(0)
        w.intTuple(shape)
        w.intTuple(strides)
        w.bool(false)
        w.global("collections", "OrderedDict"); w.emptyTuple(); w.reduce()
        w.tuple()
        w.reduce()
        w.raw([0x73, 0x73])  // SETITEM x2
        w.stop()
        return try ZipArchive.archive([("archive/data.pkl", w.bytes), ("archive/data/0", [0, 0, 128, 63])])
    }

    @Test func absurdSizesAreRefusedBeforeAllocating() throws {
        let huge = 1 << 60
        let a = try Self.zipWithTensor(numel: huge, shape: [1 << 30, 1 << 30], strides: [1 << 30, 1])
        #expect(Self.refusal(kind: .corrupt) { _ = try RosinalityCheckpoint(bytes: a, name: "a.pt") }.contains("holds 4 bytes, but is recorded as \(huge) float32 elements"))
        let b = try Self.zipWithTensor(numel: 1, shape: [huge], strides: [0])
        #expect(Self.refusal(kind: .corrupt) { _ = try RosinalityCheckpoint(bytes: b, name: "b.pt") }.contains("has \(huge) elements but its storage holds 1"))
        let c = try Self.zipWithTensor(numel: 1, shape: [1 << 40, 1 << 40], strides: [1, 1])
        #expect(Self.refusal(kind: .corrupt) { _ = try RosinalityCheckpoint(bytes: c, name: "c.pt") }.contains("too many elements to count"))
        let d = try Self.zipWithTensor(numel: 4, shape: [2, 2], strides: [Int.max / 2, 1])
        #expect(Self.refusal(kind: .corrupt) { _ = try RosinalityCheckpoint(bytes: d, name: "d.pt") }.contains("reaches element"))

        // A legacy stream whose storage claims 2^60 elements of data.
        var legacy = TorchSaveWriter.legacy([("g_ema", [("w", Tensor(shape: [2], repeating: 1))])])
        let countAt = legacy.count - 16
        withUnsafeBytes(of: UInt64(huge).littleEndian) { for (i, b) in $0.enumerated() { legacy[countAt + i] = b } }
        #expect(Self.refusal(kind: .corrupt) { _ = try RosinalityCheckpoint(bytes: legacy, name: "l.pt") }.contains("claims \(huge) elements"))

        // BINBYTES8 / BINUNICODE8 lengths beyond the file.
        var w = PickleWriter(protocol: 4)
        w.raw([0x8E] + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        #expect(Self.plain(w, kind: .corrupt).contains("remain (truncated file?)"))
    }

    @Test func deepNestingIsBoundedAndNeverRecurses() {
        var marks = PickleWriter()
        marks.raw([UInt8](repeating: 0x28, count: 100_000))
        #expect(Self.plain(marks, kind: .tooLarge).contains("nests deeper than 1000 levels"))

        // A million lists, each appended into the one before: deep data, built by a loop.
        var lists = PickleWriter()
        lists.raw([UInt8](repeating: 0x5D, count: 1_000_000))
        lists.raw([UInt8](repeating: 0x61, count: 999_999))
        lists.stop()
        #expect(Self.plain(lists, kind: .wrongFormat).contains("not an NVIDIA snapshot dict"))

        // Persistent modules nested 40 deep.
        var m = PickleWriter(protocol: 4)
        m.emptyDict()
        m.string("G_ema")
        for _ in 0..<40 {
            m.global("torch_utils.persistence", "_reconstruct_persistent_obj")
            m.emptyDict(); m.mark()
            m.string("type"); m.string("class"); m.string("class_name"); m.string("M"); m.string("state")
            m.emptyDict(); m.mark(); m.string("_modules"); m.emptyDict(); m.string("child")
        }
        m.none()
        for _ in 0..<40 {
            m.raw([0x73])  // SETITEM child
            m.setItems()  // state's items
            m.setItems()  // meta's items
            m.raw([0x85])
            m.reduce()
        }
        m.raw([0x73])
        m.stop()
        #expect(Self.plain(m, kind: .tooLarge).contains("modules nest deeper than 32 levels"))
    }

    @Test func memoAbuseIsCheapOrRefused() {
        var unset = PickleWriter()
        unset.binGet(7)
        #expect(Self.plain(unset, kind: .corrupt).contains("memo entry 7, which was never stored"))

        // A far memo index costs one entry, not four billion.
        var far = PickleWriter()
        far.emptyDict()
        far.raw([0x72, 0xFF, 0xFF, 0xFF, 0xFF])  // LONG_BINPUT 2^32 - 1
        far.raw([0x6A, 0xFF, 0xFF, 0xFF, 0xFF])  // LONG_BINGET
        far.stop()
        #expect(Self.plain(far, kind: .notFound).contains("no 'G_ema'"))

        // A 200,000-item list recalled 100,000 times into OrderedDict(...), which would copy 2e10 items.
        var copies = PickleWriter()
        copies.emptyList()
        copies.binPut(0)
        copies.mark()
        for _ in 0..<200_000 { copies.raw([0x4E, 0x4E, 0x86]) }  // (None, None) pairs
        copies.appends()
        for _ in 0..<100_000 {
            copies.global("collections", "OrderedDict")
            copies.binGet(0)
            copies.raw([0x85])
            copies.reduce()
            copies.raw([0x30])  // POP
        }
        copies.stop()
        #expect(Self.plain(copies, kind: .tooLarge).contains("more work than its size allows"))

        // One nested storage stream recalled and parsed again and again.
        var streams = PickleWriter(protocol: 4)
        streams.global("torch.storage", "_load_from_bytes")
        streams.binPut(0)
        streams.binBytes([UInt8](TorchSaveWriter.legacy([])) + [UInt8](repeating: 0, count: 200_000))
        streams.raw([0x85])
        streams.binPut(1)
        streams.raw([0x30])
        for _ in 0..<10_000 {
            streams.binGet(0)
            streams.binGet(1)
            streams.reduce()
            streams.raw([0x30])
        }
        streams.stop()
        let message = Self.plain(streams)
        #expect(message.contains("more work than its size allows") || message.contains("something other than a storage"), "\(message)")

        // A list that contains itself: no hang, no leak, no recursion.
        var cycle = PickleWriter()
        cycle.emptyList()
        cycle.binPut(0)
        cycle.binGet(0)
        cycle.raw([0x61])  // APPEND
        cycle.stop()
        #expect(Self.plain(cycle, kind: .wrongFormat).contains("not an NVIDIA snapshot dict"))
    }

    @Test func otherMalformedPickles() {
        var proto = PickleWriter(protocol: 9)
        proto.stop()
        #expect(Self.plain(proto, kind: .unsupported).contains("uses protocol 9"))
        var op = PickleWriter()
        op.raw([0xFF])
        #expect(Self.plain(op, kind: .corrupt).contains("unknown opcode 0xFF"))
        var underflow = PickleWriter()
        underflow.mark()
        underflow.raw([0x30])
        #expect(Self.plain(underflow, kind: .corrupt).contains("pops an empty stack"))
        var inst = PickleWriter()
        inst.raw(Array("ios\nsystem\n".utf8))
        #expect(Self.plain(inst, kind: .unsupported).contains("INST/OBJ"))
        var ext = PickleWriter()
        ext.raw([0x82, 1])
        #expect(Self.plain(ext, kind: .unsupported).contains("extension registry"))
        var persid = PickleWriter()
        persid.string("x")
        persid.binPersId()
        #expect(Self.plain(persid, kind: .corrupt).contains("persistent id"))
        var notUTF8 = PickleWriter()
        notUTF8.raw([0x8C, 2, 0xC3, 0x28])
        #expect(Self.plain(notUTF8, kind: .corrupt).contains("not UTF-8"))
    }
}
