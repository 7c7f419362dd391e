import Engine
import Foundation
import Testing
import TestSupport

/// Bad weight files: each gets one clear error that names the file and the tensor.
@Suite("Generator checkpoints that are wrong")
struct GeneratorLoaderTests {
    static func fixtureTensors() throws -> [String: Tensor] {
        let file = try SafeTensorsFile(path: Fixtures.path("stylegan2/tiny32/weights.safetensors"))
        var out: [String: Tensor] = [:]
        for name in file.names { out[name] = try file.tensor(name) }
        return out
    }

    /// Writes `tensors` as a checkpoint in a fresh temporary folder and tries to load it.
    static func load(_ tensors: [String: Tensor]) throws -> (path: String, error: String?, kind: LinstoryError.Kind?) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-loader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("model.safetensors").path
        try SafeTensorsWriter.write(tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, metadata: [:], to: path)
        do {
            _ = try GeneratorCheckpoint.load(path: path)
            return (path, nil, nil)
        } catch let e as LinstoryError {
            return (path, e.message, e.kind)
        }
    }

    @Test func intactFixtureLoads() throws {
        let (_, error, _) = try Self.load(Self.fixtureTensors())
        #expect(error == nil)
    }

    @Test func missingTensorIsNamed() throws {
        var t = try Self.fixtureTensors()
        t["synthesis.b16.conv0.affine.bias"] = nil
        let (path, error, kind) = try Self.load(t)
        #expect(error == "\(path): missing tensor 'synthesis.b16.conv0.affine.bias'")
        #expect(kind == .notFound)
    }

    @Test func unexpectedTensorIsNamed() throws {
        var t = try Self.fixtureTensors()
        t["synthesis.b16.conv2.weight"] = Tensor(zeros: [2, 2])
        let (path, error, kind) = try Self.load(t)
        #expect(error == "\(path): unexpected tensor 'synthesis.b16.conv2.weight'")
        #expect(kind == .unsupported)
    }

    @Test func wrongShapeIsNamed() throws {
        var t = try Self.fixtureTensors()
        t["synthesis.b8.torgb.affine.weight"] = Tensor(zeros: [64, 63])
        let (path, error, kind) = try Self.load(t)
        #expect(error == "\(path): tensor 'synthesis.b8.torgb.affine.weight' has shape [64, 63], expected [64, 64]")
        #expect(kind == .mismatch)
    }

    @Test func mismatchedChannelsAreCaught() throws {
        var t = try Self.fixtureTensors()
        // conv0 of b16 must read b8's 64 channels.
        t["synthesis.b16.conv0.weight"] = Tensor(zeros: [64, 32, 3, 3])
        let (path, error, kind) = try Self.load(t)
        #expect(error == "\(path): tensor 'synthesis.b16.conv0.weight' has shape [64, 32, 3, 3], expected [64, 64, 3, 3]")
        #expect(kind == .mismatch)
    }

    @Test func nonFiniteValueIsNamed() throws {
        var t = try Self.fixtureTensors()
        var w = t["mapping.fc1.bias"]!
        w[flat: 5] = .nan
        t["mapping.fc1.bias"] = w
        let (path, error, kind) = try Self.load(t)
        #expect(error == "\(path): tensor 'mapping.fc1.bias' holds nan at index 5")
        #expect(kind == .corrupt)
    }

    @Test func wrongDtypeIsNamed() throws {
        // An I64 tensor under a real name: hand-built header, 8 bytes of data.
        let header = #"{"mapping.w_avg":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) }
        bytes += Array(header.utf8) + [UInt8](repeating: 0, count: 8)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-dtype-\(UUID().uuidString).safetensors").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: LinstoryError.self) { try GeneratorCheckpoint.load(path: path) }
        #expect(error?.message.hasPrefix(path) == true)
        #expect(error?.message.contains("mapping.w_avg") == true)
        #expect(error?.message.contains("I64") == true)
        #expect(error?.kind == .unsupported)
    }

    @Test func truncatedFileIsReported() throws {
        let full = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("stylegan2/tiny32/weights.safetensors")))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-trunc-\(UUID().uuidString).safetensors").path
        try full.prefix(full.count - 1000).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: LinstoryError.self) { try GeneratorCheckpoint.load(path: path) }
        #expect(error?.message.hasPrefix(path + ": ") == true)
        #expect(error?.kind == .corrupt)
    }

    @Test func missingFileIsReported() {
        let error = #expect(throws: LinstoryError.self) { try GeneratorCheckpoint.load(path: "/nonexistent/model.safetensors") }
        #expect(error?.message == "/nonexistent/model.safetensors: no such file")
        #expect(error?.kind == .notFound)
    }

    @Test func configurationComesFromShapes() throws {
        let g = try Fixtures.generator("small64")
        let c = g.config
        #expect(c.zDim == 128 && c.wDim == 128 && c.imgResolution == 64 && c.imgChannels == 3)
        #expect(c.mappingLayers == 4 && c.numWs == 10 && c.convClamp == 256)
        #expect(c.blockChannels == [128, 128, 128, 128, 64])
        // config.json's parameter count, as NVIDIA counts it.
        #expect(g.parameterCount == 1_428_312)
    }
}
