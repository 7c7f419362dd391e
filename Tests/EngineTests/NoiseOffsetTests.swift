import Engine
import Foundation
import Testing
import TestSupport

/// `SynthesisLayer.noiseOffset` (a tuned scene's change to its noise) adds to whatever noise map the
/// layer is given, and to nothing under `.none`; a stand-alone generator file keeps it.
@Suite("Noise offsets")
struct NoiseOffsetTests {
    /// tiny32 with a random offset on every conv layer, and the offsets by layer.
    static func offsetGenerator() throws -> (Generator, [Tensor]) {
        var g = try Fixtures.generator("tiny32")
        var rng = TestRandom(seed: 11)
        let offsets = g.synthesis.noiseResolutions.map { rng.tensor([$0, $0], scale: 0.5) }
        for (name, o) in zip(g.synthesis.noiseLayerNames, offsets) {
            let found = g.synthesis.setNoiseOffset(name, o)
            #expect(found, "no layer '\(name)'")
        }
        return (g, offsets)
    }

    static func latents(_ g: Generator, count: Int) -> Tensor {
        var rng = TestRandom(seed: 12)
        return g.mapping(rng.tensor([count, g.config.zDim]), truncationPsi: 0.7)
    }

    static func plus(_ a: Tensor, _ b: Tensor) -> Tensor {
        var out = a
        b.withUnsafeBufferPointer { y in out.withUnsafeMutableBufferPointer { x in for i in 0..<x.count { x[i] += y[i % y.count] } } }
        return out
    }

    /// Explicit maps, shared [1, R, R] and per sample [N, R, R]: the same bits as the maps plus the offset.
    @Test func explicitNoiseGetsTheOffset() throws {
        let (g, offsets) = try Self.offsetGenerator()
        let plain = try Fixtures.generator("tiny32")
        let ws = Self.latents(g, count: 2)
        var rng = TestRandom(seed: 13)
        for rows in [1, 2] {
            let maps = g.synthesis.noiseResolutions.map { rng.tensor([rows, $0, $0]) }
            let shifted = zip(maps, offsets).map { Self.plus($0, $1) }
            #expect(sameBits(g.synthesize(ws: ws, noise: .explicit(maps)), plain.synthesize(ws: ws, noise: .explicit(shifted))), "\(rows) rows of noise")
        }
    }

    @Test func constNoiseGetsTheOffsetAndNoNoiseNone() throws {
        let (g, offsets) = try Self.offsetGenerator()
        let plain = try Fixtures.generator("tiny32")
        let ws = Self.latents(g, count: 2)
        let shifted = zip(plain.synthesis.convLayers, offsets).map { Self.plus($0.noiseConst, $1).reshaped([1] + $0.noiseConst.shape) }
        #expect(sameBits(g.synthesize(ws: ws, noise: .const), plain.synthesize(ws: ws, noise: .explicit(shifted))))
        #expect(sameBits(g.synthesize(ws: ws, noise: .none), plain.synthesize(ws: ws, noise: .none)))
        #expect(!sameBits(g.synthesize(ws: ws, noise: .const), plain.synthesize(ws: ws, noise: .const)))
    }

    @Test func standaloneFileKeepsTheOffsets() throws {
        let (g, _) = try Self.offsetGenerator()
        let folder = try TemporaryFolder()
        let path = folder.path + "/offsets.safetensors"
        try g.write(to: path)
        let back = try GeneratorCheckpoint.load(path: path).generator
        let ws = Self.latents(g, count: 2)
        #expect(sameBits(g.synthesize(ws: ws, noise: .const), back.synthesize(ws: ws, noise: .const)))
        // A wrong shape is refused, naming the file and the tensor.
        var tensors = g.stateTensors()
        tensors["synthesis.b8.conv1.noise_offset"] = Tensor(zeros: [4, 4])
        let error = linstoryFailure {
            _ = try GeneratorLoader.build(tensors: tensors, convClamp: g.config.convClamp, mappingLRMultiplier: g.config.mappingLRMultiplier, file: "x.safetensors")
        }
        #expect(error?.hasPrefix("x.safetensors: ") == true && error?.contains("noise_offset") == true, "\(error ?? "no error")")
    }
}
