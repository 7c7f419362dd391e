import Engine
import Foundation
import Testing
import TestSupport

/// `Generator.stateTensors()` is the inverse of `GeneratorLoader.build`: the same names and bits as
/// the checkpoint file the generator was read from, and a generator built from them (or from the
/// standalone file `write(to:)` makes) renders the same bits.
@Suite("Generator state_dict round trip")
struct GeneratorStateDictTests {
    static let models: [(String, String)] = [
        ("bbb64", Fixtures.repoRoot.appendingPathComponent("assets/bbb64.safetensors").path),
        ("tiny32", Fixtures.path("stylegan2/tiny32/weights.safetensors")),
    ]

    /// Images [3, C, R, R] of fixed latents, with the model's const noise and without noise.
    static func images(_ g: Generator) -> [Tensor] {
        var rng = TestRandom(seed: 5)
        let z = rng.tensor([3, g.config.zDim])
        let ws = g.mapping(z, truncationPsi: 0.8)
        return [g.synthesize(ws: ws, noise: .const), g.synthesize(ws: ws, noise: .none), ws]
    }

    static func expectSameImages(_ a: Generator, _ b: Generator, _ what: String) {
        for (x, y) in zip(images(a), images(b)) {
            #expect(sameBits(x, y), "\(what): images differ")
        }
    }

    @Test(arguments: models.map(\.0))
    func tensorsAreTheFilesTensors(model: String) throws {
        let path = Self.models.first { $0.0 == model }!.1
        let file = try SafeTensorsFile(path: path)
        let g = try GeneratorCheckpoint.load(path: path).generator
        let tensors = g.stateTensors()
        let extra = Set(tensors.keys).subtracting(file.names).sorted(), missing = Set(file.names).subtracting(tensors.keys).sorted()
        #expect(extra.isEmpty && missing.isEmpty, "\(model): names the file lacks \(extra), names missing \(missing)")
        for name in file.names where tensors[name] != nil {
            #expect(sameBits(tensors[name]!, try file.tensor(name)), "\(model): '\(name)' differs from the file's")
        }
    }

    @Test(arguments: models.map(\.0))
    func buildFromStateTensorsRendersTheSameBits(model: String) throws {
        let checkpoint = try GeneratorCheckpoint.load(path: Self.models.first { $0.0 == model }!.1)
        let g = checkpoint.generator
        let rebuilt = try GeneratorLoader.build(
            tensors: g.stateTensors(), convClamp: g.config.convClamp, mappingLRMultiplier: g.config.mappingLRMultiplier, file: "state tensors")
        #expect(rebuilt.config == g.config)
        Self.expectSameImages(g, rebuilt, model)
    }

    @Test(arguments: models.map(\.0))
    func standaloneFileLoadsAsTheSameGenerator(model: String) throws {
        let g = try GeneratorCheckpoint.load(path: Self.models.first { $0.0 == model }!.1).generator
        let folder = try TemporaryFolder()
        let path = folder.path + "/copy.safetensors"
        try g.write(to: path, metadata: ["note": "round trip"])
        let back = try GeneratorCheckpoint.load(path: path)
        #expect(back.convClampRecorded)
        #expect(back.metadata["note"] == "round trip")
        #expect(back.generator.config == g.config)
        Self.expectSameImages(g, back.generator, model)
    }

    /// A mapping lr multiplier other than NVIDIA's 0.01 and no conv_clamp survive the file.
    @Test func configOutsideTheDefaultsSurvivesTheFile() throws {
        var shape = Generator.default64Shape
        (shape.zDim, shape.wDim, shape.imgResolution, shape.mappingLayers) = (8, 8, 8, 2)
        (shape.mappingFeatures, shape.blockChannels, shape.mappingLRMultiplier) = ([8, 8, 8], [4, 4], 0.05)
        for clamp in [nil, Float(0.5)] {
            shape.convClamp = clamp
            let g = try Generator.random(shape, seed: 3)
            let folder = try TemporaryFolder()
            try g.write(to: folder.path + "/g.safetensors")
            let back = try GeneratorCheckpoint.load(path: folder.path + "/g.safetensors").generator
            #expect(back.config == g.config)
            Self.expectSameImages(g, back, "random, conv_clamp \(String(describing: clamp))")
        }
    }
}
