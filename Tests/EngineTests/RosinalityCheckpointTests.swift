import Engine
import Foundation
import Testing
import TestSupport

/// rosinality .pt checkpoints: the official fixtures laid out as rosinality's model.py lays them out
/// (`RosinalityLayout`, written from that code, not from linstory's reader) must render as the official
/// files do, and the real torch.save files from tools/make_checkpoint_fixtures.py as rosinality's own
/// code renders them (tools/render_with_rosinality.py).
@Suite("rosinality .pt checkpoints")
struct RosinalityCheckpointTests {
    static func scratch(_ name: String, _ bytes: [UInt8]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-pt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func officialTensors(_ fixture: String) throws -> [String: Tensor] {
        let file = try SafeTensorsFile(path: Fixtures.path("stylegan2/\(fixture)/weights.safetensors"))
        var out: [String: Tensor] = [:]
        for name in file.names { out[name] = try file.tensor(name) }
        return out
    }

    static func expectClose(_ ours: Tensor, _ reference: Tensor, _ what: String) {
        let c = TensorComparison(what, ours: ours, reference: reference)
        let range = reference.scalars.max()! - reference.scalars.min()!
        // The same float32 arithmetic from re-laid-out weights (bit-equal here), or against rosinality's
        // PyTorch rendering of a 16 px generator (other summation orders of K = 9 C products per conv,
        // measured <= 8e-7 of the range). 1e-4 of the range, as GoldenParityTests.outputTolerance.
        #expect(c.maxAbsDiff <= 1e-4 * range, "\(c)")
    }

    @Test(arguments: ["tiny32", "small64"], [false, true])
    func fixtureInRosinalityLayoutRendersLikeTheOfficial(fixture: String, legacy: Bool) throws {
        let official = try Fixtures.generator(fixture)
        let state = RosinalityLayout.stateDict(fromOfficial: try Self.officialTensors(fixture))
        // rosinality's train.py saves g, d and g_ema; only g_ema is read.
        let decoy: TorchSaveWriter.StateDict = state.map { (name: $0.name, tensor: Tensor(shape: $0.tensor.shape, repeating: 7)) }
        let dicts: [(key: String, state: TorchSaveWriter.StateDict)] = [("g", decoy), ("g_ema", state)]
        let bytes = legacy ? TorchSaveWriter.legacy(dicts) : try TorchSaveWriter.zip(dicts)
        let checkpoint = try GeneratorCheckpoint.load(path: try Self.scratch("\(fixture).pt", bytes))
        #expect(checkpoint.format == "rosinality .pt (g_ema)")
        #expect(checkpoint.generator.config.blockChannels == official.config.blockChannels)
        #expect(checkpoint.generator.config.convClamp == nil)

        let golden = try Fixtures.goldenCase(fixture)
        let ws = try golden.tensor("ws")
        let z = try golden.tensor("z")
        Self.expectClose(checkpoint.generator.synthesize(ws: ws, noise: NoiseMode.const), official.synthesize(ws: ws, noise: NoiseMode.const), "\(fixture) const")
        Self.expectClose(checkpoint.generator.synthesize(ws: ws, noise: NoiseMode.none), official.synthesize(ws: ws, noise: NoiseMode.none), "\(fixture) none")
        Self.expectClose(checkpoint.generator(z: z), official(z: z), "\(fixture) G(z)")
    }

    /// No w_avg in the file: the mean of 10,000 mapping outputs for numpy RandomState(0) z, computed
    /// here the plain way from the official generator's mapping.
    @Test func wAvgIsTheMeanOfTenThousandMappingSamples() throws {
        let official = try Fixtures.generator("tiny32")
        let state = RosinalityLayout.stateDict(fromOfficial: try Self.officialTensors("tiny32"))
        let checkpoint = try GeneratorCheckpoint.load(path: try Self.scratch("g.pt", try TorchSaveWriter.zip([("g_ema", state)])))
        #expect(checkpoint.metadata["w_avg"]?.contains("10,000 mapping samples") == true)

        var rng = NumpyRandomState(seed: 0)
        let zDim = official.config.zDim
        var sum = [Double](repeating: 0, count: official.config.wDim)
        for _ in 0..<10 {
            let z = Tensor(shape: [1000, zDim], values: rng.randn(1000 * zDim).map(Float.init))
            let w = official.mapping(z)
            for s in 0..<1000 { for j in sum.indices { sum[j] += Double(w[flat: (s * official.config.numWs) * sum.count + j]) } }
        }
        let expected = Tensor(shape: [sum.count], values: sum.map { Float($0 / 10_000) })
        let c = TensorComparison("w_avg", ours: checkpoint.generator.mapping.wAvg, reference: expected)
        // Float64 means of the same float32 mapping outputs, rounded to float32 (2^-24 * 1.9 = 1.1e-7);
        // batches of 1000 on both sides. Measured 0 to 7e-9.
        #expect(c.maxAbsDiff <= 1e-6 * max(c.maxAbsReference, 1), "\(c)")
    }

    /// Files converted from NVIDIA's TensorFlow pickles carry latent_avg: it is used as w_avg.
    @Test func latentAvgIsUsedWhenPresent() throws {
        let state = RosinalityLayout.stateDict(fromOfficial: try Self.officialTensors("tiny32"))
        let avg = Tensor(shape: [64], values: (0..<64).map { Float($0) / 64 })
        let bytes = try TorchSaveWriter.zip([("g_ema", state)], tensors: [("latent_avg", avg)])
        let checkpoint = try GeneratorCheckpoint.load(path: try Self.scratch("g.pt", bytes))
        #expect(sameBits(checkpoint.generator.mapping.wAvg, avg))
        #expect(checkpoint.metadata["w_avg"] == "from the file's latent_avg")
    }

    /// Real torch.save output (zip and legacy), checked against rosinality's own rendering of the same file.
    @Test(arguments: ["rosinality16.pt", "rosinality16-legacy.pt"])
    func realTorchFilesRenderLikeRosinalitysCode(file: String) throws {
        let checkpoint = try GeneratorCheckpoint.load(path: Fixtures.path("checkpoints/\(file)"))
        let official = try GeneratorCheckpoint.load(path: Fixtures.path("checkpoints/official16.safetensors")).generator
        var z = Tensor(zeros: [4, 32])
        z.withUnsafeMutableBufferPointer { p in
            for seed in 0..<4 {
                var rng = NumpyRandomState(seed: UInt32(seed))
                for (j, v) in rng.randn(32).enumerated() { p[seed * 32 + j] = Float(v) }
            }
        }
        let ours = checkpoint.generator(z: z)
        let rosinality = try NpyArray.read(path: Fixtures.path("checkpoints/rosinality16-seeds0-3.npy"))
        Self.expectClose(ours, rosinality, "\(file) vs rosinality's model.py")
        #expect(ours == official(z: z))
    }

    @Test func missingAndUnexpectedTensorsAreNamed() throws {
        var state = RosinalityLayout.stateDict(fromOfficial: try Self.officialTensors("tiny32"))
        state.removeAll { $0.name == "convs.3.noise.weight" }
        let missing = try Self.scratch("m.pt", try TorchSaveWriter.zip([("g_ema", state)]))
        #expect(linstoryFailure { _ = try GeneratorCheckpoint.load(path: missing) } == "\(missing): missing tensor 'convs.3.noise.weight' (not a rosinality generator?)")
        #expect(#expect(throws: LinstoryError.self) { _ = try GeneratorCheckpoint.load(path: missing) }?.kind == .notFound)
        state.append(("convs.3.noise.weight", Tensor(zeros: [1])))
        state.append(("convs.99.extra", Tensor(zeros: [1])))
        let extra = try Self.scratch("e.pt", try TorchSaveWriter.zip([("g_ema", state)]))
        #expect(linstoryFailure { _ = try GeneratorCheckpoint.load(path: extra) } == "\(extra): unexpected tensor 'convs.99.extra' in g_ema")
        #expect(#expect(throws: LinstoryError.self) { _ = try GeneratorCheckpoint.load(path: extra) }?.kind == .unsupported)
    }
}
