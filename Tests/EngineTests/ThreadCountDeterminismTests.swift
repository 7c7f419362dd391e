import Engine
import Foundation
import Testing
import TestSupport

/// A film split among cluster workers, each with its own core count, must give bit for bit the
/// latents of a one-process run: so one generator forward + backward (the image, d/d ws and d/d the
/// noise maps) must give the same bits whatever the number of workers a workspace splits over.
/// Every way the split could change the arithmetic (partial sums per worker added afterwards, GEMM
/// shapes or chunk sizes that follow the worker count, and OpenBLAS's shape-dependent kernels with
/// them) shows up here as a thread count whose bits differ from one worker's.
@Suite("Results do not depend on the worker count")
struct ThreadCountDeterminismTests {
    /// How a workspace is made, besides its worker count.
    struct Setting: CustomStringConvertible, Sendable {
        var name: String
        var chunkBudget: Int = 1 << 22
        var minimumFLOPsPerWorker: Double = 2e6

        var description: String { name }

        /// Every phase split, however small (so every split path runs).
        static let splitEverything = Setting(name: "split everything", minimumFLOPsPerWorker: 0)
        /// What ReconstructionStep uses.
        static let defaults = Setting(name: "defaults")
        /// Short GEMM chunks in the up-sampling layers and the backward, every phase split.
        static let smallChunks = Setting(name: "small chunks", chunkBudget: 2 * 9 * 64 * 32 * 32, minimumFLOPsPerWorker: 0)
    }

    /// The noise the forward is given: shared by the batch (as the projectors optimise it) or one map
    /// per sample.
    enum Noise: String, CustomStringConvertible, Sendable {
        case shared, perSample
        var description: String { rawValue }
    }

    static let threadCounts = [1, 2, 3, 4]

    /// (name, tensor) for the image, d/d ws and every noise map's gradient (and with `parameters`,
    /// every synthesis parameter's).
    static func outputs(
        _ g: Generator, resolution: Int, batch: Int, threads: Int, setting: Setting, noise: Noise, parameters: Bool
    ) -> [(String, Tensor)] {
        let workspace = SynthesisWorkspace(
            network: g.synthesis, batch: batch, chunkBudget: setting.chunkBudget,
            minimumFLOPsPerWorker: setting.minimumFLOPsPerWorker, threads: threads)
        #expect(workspace.threads == threads)
        var rng = TestRandom(seed: 11 + UInt64(batch))
        let ws = rng.tensor([batch, g.config.numWs, g.config.wDim], scale: 0.5)
        let maps = g.synthesis.noiseResolutions.map { r in rng.tensor([noise == .shared ? 1 : batch, r, r]) }
        let gradImage = rng.tensor([batch, g.config.imgChannels, resolution, resolution])
        let image = g.synthesis.forward(ws, noise: .explicit(maps), workspace: workspace)
        let grads = g.synthesis.backward(gradImage, workspace: workspace, ws: ws, parameterGradients: parameters)
        var out = [("image", image), ("d/d ws", grads.ws)]
        for (name, gn) in zip(g.synthesis.noiseLayerNames, grads.noise) { out.append(("d/d " + name, gn)) }
        for name in grads.parameters.keys.sorted() { out.append(("d/d " + name, grads.parameters[name]!)) }
        return out
    }

    /// Where `b` differs from `a`: the count of differing elements and the largest absolute and
    /// relative (to a's largest magnitude) difference.
    static func difference(_ a: Tensor, _ b: Tensor) -> String? {
        if sameBits(a, b) { return nil }
        guard a.shape == b.shape else { return "shape \(b.shape) instead of \(a.shape)" }
        let x = a.scalars, y = b.scalars
        var count = 0
        var largest: Float = 0
        for i in x.indices where x[i].bitPattern != y[i].bitPattern {
            count += 1
            largest = max(largest, abs(x[i] - y[i]))
        }
        let scale = x.map(abs).max() ?? 0
        return "\(count) of \(x.count) differ, by up to \(largest) (\(largest / max(scale, .leastNormalMagnitude)) of the largest)"
    }

    /// Runs every worker count and expects the bits of one worker's run from each.
    static func check(
        _ model: String, _ g: Generator, resolution: Int, batch: Int, setting: Setting, noise: Noise, parameters: Bool = false
    ) {
        let reference = outputs(g, resolution: resolution, batch: batch, threads: 1, setting: setting, noise: noise, parameters: parameters)
        for threads in threadCounts.dropFirst() {
            let run = outputs(g, resolution: resolution, batch: batch, threads: threads, setting: setting, noise: noise, parameters: parameters)
            #expect(run.count == reference.count)
            for ((name, a), (_, b)) in zip(reference, run) {
                if let d = difference(a, b) {
                    Issue.record("\(model), batch \(batch), \(setting), \(noise) noise, \(threads) workers vs 1: \(name): \(d)")
                }
            }
        }
    }

    static let bbb64 = Result { try GeneratorCheckpoint.load(path: Fixtures.repoRoot.appendingPathComponent("assets/bbb64.safetensors").path).generator }

    @Test(arguments: [1, 3, 8], [Setting.splitEverything, .defaults])
    func bundledModel(batch: Int, setting: Setting) throws {
        let g = try Self.bbb64.get()
        Self.check("bbb64", g, resolution: g.config.imgResolution, batch: batch, setting: setting, noise: .shared)
    }

    @Test(arguments: [3, 8])
    func bundledModelPerSampleNoiseSmallChunks(batch: Int) throws {
        let g = try Self.bbb64.get()
        Self.check("bbb64", g, resolution: g.config.imgResolution, batch: batch, setting: .smallChunks, noise: .perSample)
    }

    /// The weight, bias and noise-strength gradients too (not what the projectors optimise, but their
    /// splits are the same kind).
    @Test(arguments: [3, 8])
    func bundledModelParameterGradients(batch: Int) throws {
        let g = try Self.bbb64.get()
        Self.check("bbb64", g, resolution: g.config.imgResolution, batch: batch, setting: .splitEverything, noise: .perSample, parameters: true)
    }

    @Test(arguments: [1, 3, 8], [Setting.splitEverything, .defaults])
    func tinyFixture(batch: Int, setting: Setting) throws {
        let g = try Fixtures.generator("tiny32")
        Self.check("tiny32", g, resolution: g.config.imgResolution, batch: batch, setting: setting, noise: batch == 3 ? .perSample : .shared)
    }
}
