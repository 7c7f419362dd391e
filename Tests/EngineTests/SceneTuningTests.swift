import Engine
import Foundation
import Testing
import TestSupport

/// The bundled model and clip as a tuning bench: the model, its W statistics, the clip's frames at
/// 64 px, and the measures the tuning tests and measurements share.
final class SceneTuningBench: @unchecked Sendable {
    let generator: Generator
    let statistics: WStatistics
    let targets: Tensor  // [202, 3, 64, 64]
    let modelBytes: Int

    init(generator: Generator, statistics: WStatistics, targets: Tensor, modelBytes: Int) {
        self.generator = generator
        self.statistics = statistics
        self.targets = targets
        self.modelBytes = modelBytes
    }

    static let modelPath = Fixtures.repoRoot.appendingPathComponent("assets/bbb64.safetensors").path
    private static let shared = Result {
        let g = try GeneratorCheckpoint.load(path: modelPath).generator
        let clip = try ClipTargets.read(video: Clips.bbbCuts, resolution: g.config.imgResolution, channels: g.config.imgChannels, fit: .centerCrop, window: nil)
        let bytes = (try FileManager.default.attributesOfItem(atPath: modelPath)[.size] as? NSNumber)?.intValue ?? 0
        return SceneTuningBench(generator: g, statistics: WStatistics.compute(mapping: g.mapping), targets: clip.targets, modelBytes: bytes)
    }

    static func bundled() throws -> SceneTuningBench { try shared.get() }

    /// Rows `rows` of `t` [N, ...], stacked.
    static func rows(_ rows: [Int], of t: Tensor) -> Tensor { Tensor.concatenate(rows.map { t.slice($0..<($0 + 1)) }) }

    /// A scene's frames inverted with `method` ("naive" or "scene") at `budget` evaluations a frame.
    static func invert(_ bench: SceneTuningBench, method: String, budget: Int, targets: Tensor) throws -> [FrameInversion] {
        let settings = InversionSettings()
        let loss = try ImageLosses.named("default")
        if method == "naive" {
            return try NaiveProjector(settings: settings, steps: budget).run(
                generator: bench.generator, statistics: bench.statistics, loss: loss, targets: targets)
        }
        return try SceneProjector(settings: settings, budget: budget).run(
            generator: bench.generator, statistics: bench.statistics, loss: loss, targets: targets).frames
    }

    /// Pivots kept in the temporary folder between measurement runs (an inversion takes a minute).
    func pivots(scene: Range<Int>, method: String, budget: Int, subset: String, make: () throws -> [FrameInversion]) throws -> [FrameInversion] {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("linstory-tune-pivots-\(method)-\(budget)-\(scene.lowerBound)-\(scene.upperBound)-\(subset).safetensors").path
        if let file = try? SafeTensorsFile(path: path), let count = file.metadata["frames"].flatMap({ Int($0) }) {
            return try (0..<count).map { i in
                let layers = generator.synthesis.convLayers.count
                let noise = file.entries["\(i).noise.0"] == nil ? nil : try (0..<layers).map { try file.tensor("\(i).noise.\($0)") }
                return FrameInversion(ws: try file.tensor("\(i).ws"), noise: noise, lossHistory: [], finalLoss: 0, evaluations: budget)
            }
        }
        let frames = try make()
        var tensors: [(String, Tensor)] = []
        for (i, f) in frames.enumerated() {
            tensors.append(("\(i).ws", f.ws))
            for (l, m) in (f.noise ?? []).enumerated() { tensors.append(("\(i).noise.\(l)", m)) }
        }
        try SafeTensorsWriter.write(tensors, metadata: ["frames": "\(frames.count)"], to: path)
        return frames
    }

    /// Each frame's image [1, C, R, R] from `g`.
    static func render(_ g: Generator, _ frames: [FrameInversion]) -> Tensor {
        let workspace = SynthesisWorkspace(network: g.synthesis, batch: 1)
        return Tensor.concatenate(frames.map { g.synthesis.render($0, workspace: workspace) })
    }

    /// Mean PSNR of `frames` rendered by `g` against `targets`.
    func psnr(_ g: Generator, _ frames: [FrameInversion], _ targets: Tensor) -> Double {
        let p = ImageMetrics.psnr(Self.render(g, frames), targets)
        return p.reduce(0, +) / Double(p.count)
    }

    /// Random latents (psi 0.7, noise none) from a fixed seed, far from any scene's pivots.
    func randomLatents(_ count: Int = 32) -> Tensor {
        var rng = GaussianNoise(seed: 4242)
        let z = Tensor(shape: [count, generator.config.zDim]) { rng.fill($0.baseAddress!, count: $0.count) }
        return generator.mapping(z, truncationPsi: 0.7)
    }

    /// The mean squared change the tuning made to images of random latents, and to the pivots' images.
    func locality(base: Generator, tuned: Generator, pivots: [FrameInversion]) -> (random: Double, pivots: Double) {
        let ws = randomLatents()
        func mse(_ a: Tensor, _ b: Tensor) -> Double {
            a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in
                zip(x, y).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(x.count)
            } }
        }
        return (mse(base.synthesize(ws: ws, noise: .none), tuned.synthesize(ws: ws, noise: .none)),
                mse(Self.render(base, pivots), Self.render(tuned, pivots)))
    }
}

/// Pivotal tuning of a scene on real frames of the bundled clip: it lowers the scene's loss, changes
/// images far from the pivots less than the pivots' own, stores in a tenth of the model, reads back to the
/// same bits, refuses another model, and gives the same bits with any worker count.
@Suite("Scene tuning")
struct SceneTuningTests {
    /// Six frames of the clip's first scene (0-23), pivots from a short naive projection, and a short
    /// tuning (the default settings but for the steps).
    struct Run: Sendable {
        var frames: [Int]
        var targets: Tensor
        var pivots: [FrameInversion]
        var tuned: SceneTuner.Result
    }

    static let frames = [0, 4, 8, 12, 16, 20]

    static func settings() -> SceneTuningSettings {
        var s = SceneTuningSettings()
        s.steps = 60
        return s
    }

    static let run = Result { () throws -> Run in
        let bench = try SceneTuningBench.bundled()
        let targets = SceneTuningBench.rows(frames, of: bench.targets)
        var inversion = InversionSettings()
        inversion.batch = frames.count
        let pivots = try NaiveProjector(settings: inversion, steps: 20).run(
            generator: bench.generator, statistics: bench.statistics, loss: try ImageLosses.named("default"), targets: targets)
        let loss = try ImageLosses.named("mse")
        func tune(_ s: SceneTuningSettings) throws -> SceneTuner.Result {
            try SceneTuner(settings: s).run(generator: bench.generator, statistics: bench.statistics, pivots: pivots, targets: targets, loss: loss)
        }
        return Run(frames: frames, targets: targets, pivots: pivots, tuned: try tune(settings()))
    }

    /// Mean over steps `range` of the loss history.
    static func mean(_ h: [Float], _ range: Range<Int>) -> Float { h[range].reduce(0, +) / Float(range.count) }

    /// The scene's mean squared error (all six frames, rendered from their pivots) falls by a quarter
    /// at least in 60 steps: measured 0.0758 -> 0.0260 (PSNR 17.32 -> 22.06 dB; 18.89 dB without the
    /// noise offsets).
    @Test func tuningLowersTheScenesLoss() throws {
        let bench = try SceneTuningBench.bundled()
        let r = try Self.run.get()
        let g = try r.tuned.scene.apply(to: bench.generator)
        let mse = try ImageLosses.named("mse")
        let before = mse.evaluate(SceneTuningBench.render(bench.generator, r.pivots), r.targets).reduce(0, +) / Float(r.frames.count)
        let after = mse.evaluate(SceneTuningBench.render(g, r.pivots), r.targets).reduce(0, +) / Float(r.frames.count)
        print(String(
            format: "SceneTuningTests: mean squared error %.5f -> %.5f, PSNR %.2f -> %.2f dB", before, after,
            bench.psnr(bench.generator, r.pivots, r.targets), bench.psnr(g, r.pivots, r.targets)))
        #expect(after < 0.75 * before, "the scene's mean squared error fell from \(before) to \(after) only")
        #expect(r.tuned.lossHistory.count == 60 && r.tuned.localityHistory.count == 15)
    }

    /// The mean PSNR of the shared run (the test settings) and of the same tuning with `change` made
    /// to them, and that tuning's result.
    static func defaultAgainst(_ change: (inout SceneTuningSettings) -> Void) throws -> (default: Double, changed: Double, changedRun: SceneTuner.Result) {
        let bench = try SceneTuningBench.bundled()
        let r = try run.get()
        var s = settings()
        change(&s)
        let other = try SceneTuner(settings: s).run(
            generator: bench.generator, statistics: bench.statistics, pivots: r.pivots, targets: r.targets, loss: try ImageLosses.named("mse"))
        return (
            bench.psnr(try r.tuned.scene.apply(to: bench.generator), r.pivots, r.targets),
            bench.psnr(try other.scene.apply(to: bench.generator), r.pivots, r.targets), other
        )
    }

    /// `logLoss` (the default) minimises the mean of the frames' log loss, so with `mse` it ends at a
    /// higher mean PSNR than the same tuning of the mean loss. Measured: see the printed line.
    @Test func logLossRaisesTheMeanPSNR() throws {
        let (withLog, without, plain) = try Self.defaultAgainst { $0.logLoss = false }
        let r = try Self.run.get()
        print(String(format: "SceneTuningTests log loss: mean PSNR %.3f dB, %.3f dB tuning the mean loss", withLog, without))
        #expect(r.tuned.scene.notes["log_loss"] == "true" && plain.scene.notes["log_loss"] == "false")
        #expect(withLog > without + 0.01, "mean PSNR \(withLog) dB with the log loss, \(without) dB without")
    }

    /// The noise offsets (`noiseLearningRate`, on by default) are the scene's only per-pixel detail:
    /// the convolutions are the same at every pixel. The same 60 steps end at a higher mean PSNR with
    /// them than without. Measured: see the printed line.
    @Test func noiseOffsetsRaiseThePSNR() throws {
        let (withOffsets, without, plain) = try Self.defaultAgainst { $0.noiseLearningRate = 0 }
        let bench = try SceneTuningBench.bundled()
        let r = try Self.run.get()
        print(String(format: "SceneTuningTests noise offsets: mean PSNR %.3f dB, %.3f dB without", withOffsets, without))
        #expect(r.tuned.scene.noiseOffsets.count == bench.generator.synthesis.convLayers.count && plain.scene.noiseOffsets.isEmpty)
        #expect(withOffsets > without + 0.1, "mean PSNR \(withOffsets) dB with the noise offsets, \(without) dB without")
    }

    /// PTI's point: the tuning moves the pivots' images (towards their frames) and changes images of
    /// latents far from them (random ones, psi 0.7) less. Measured mean squared changes of images:
    /// random latents 1.11e-2, the pivots 4.70e-2 (ratio 0.24; 0.64 before the noise offsets); with the regulariser off
    /// (localityWeight 0) 5.49e-2 against 3.20e-2 (ratio 1.72), which fails the bound.
    @Test func imagesFarFromThePivotsChangeLess() throws {
        let bench = try SceneTuningBench.bundled()
        let r = try Self.run.get()
        let change = bench.locality(base: bench.generator, tuned: try r.tuned.scene.apply(to: bench.generator), pivots: r.pivots)
        print(String(format: "SceneTuningTests locality: random %.2e vs pivots %.2e (ratio %.3f)", change.random, change.pivots, change.random / change.pivots))
        #expect(change.random < Self.localityBound * change.pivots, "random latents' images changed \(change.random), the pivots' \(change.pivots)")
    }

    static let localityBound = 0.8

    /// A learning rate thirty times the default diverges within a few passes; the tuner goes back to
    /// its best pass at half the rate, each time, and ends on its best pass: the scene ends better
    /// than it started. Measured: see the printed line (without the backtracking the same run ends
    /// far worse than the untuned generator).
    @Test func aDivergingRateIsBackedOffAndTheBestPassKept() throws {
        let bench = try SceneTuningBench.bundled()
        let r = try Self.run.get()
        var s = Self.settings()
        s.learningRate = 0.3
        let tuned = try SceneTuner(settings: s).run(
            generator: bench.generator, statistics: bench.statistics, pivots: r.pivots, targets: r.targets, loss: try ImageLosses.named("mse"))
        let mse = try ImageLosses.named("mse")
        let before = mse.evaluate(SceneTuningBench.render(bench.generator, r.pivots), r.targets).reduce(0, +) / Float(r.frames.count)
        let after = mse.evaluate(SceneTuningBench.render(try tuned.scene.apply(to: bench.generator), r.pivots), r.targets).reduce(0, +) / Float(r.frames.count)
        let worst = tuned.lossHistory.max() ?? 0
        print(String(format: "SceneTuningTests divergence: %d backtracks, worst step loss %.4f, mean squared error %.5f -> %.5f", tuned.backtracks, worst, before, after))
        #expect(tuned.backtracks >= 1 && worst > 2 * before, "the rate did not diverge (\(tuned.backtracks) backtracks, worst step \(worst))")
        #expect(after < before, "the result \(after) is not better than the untuned \(before)")
        #expect(tuned.scene.notes["backtracks"] == "\(tuned.backtracks)")
    }

    @Test func storedInATenthOfTheModelAndReadBackToTheSameBits() throws {
        let bench = try SceneTuningBench.bundled()
        let scene = try Self.run.get().tuned.scene
        let folder = try TemporaryFolder()
        let path = folder.path + "/scene.safetensors"
        try scene.write(to: path)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
        #expect(size == scene.byteCount)
        #expect(scene.byteCount * 10 <= bench.modelBytes, "\(scene.byteCount) bytes for a model of \(bench.modelBytes)")
        // The default settings store the same tensors (the run differs in steps only): 551,4xx bytes,
        // 7.4% of the model's 7,408,848.
        let initial = TunedScene.initial(for: bench.generator.synthesis, settings: SceneTuningSettings())
        #expect(initial.parameterNames == scene.parameterNames && initial.noiseOffsets.keys.sorted() == scene.noiseOffsets.keys.sorted())
        #expect(!scene.noiseOffsets.isEmpty)

        let back = try TunedScene(path: path)
        #expect(back.parameterNames == scene.parameterNames && back.noiseOffsets.keys.sorted() == scene.noiseOffsets.keys.sorted())
        #expect(back.modelHash == scene.modelHash && back.notes == scene.notes)
        let a = try scene.apply(to: bench.generator), b = try back.apply(to: bench.generator)
        let pivots = try Self.run.get().pivots
        #expect(sameBits(SceneTuningBench.render(a, pivots), SceneTuningBench.render(b, pivots)))
        let ws = bench.randomLatents(4)
        #expect(sameBits(a.synthesize(ws: ws), b.synthesize(ws: ws)))
    }

    @Test func refusesAnotherModel() throws {
        let scene = try Self.run.get().tuned.scene
        let folder = try TemporaryFolder()
        let path = folder.path + "/scene.safetensors"
        try scene.write(to: path)
        let back = try TunedScene(path: path)
        // Other shapes: the tiny32 fixture.
        let tiny = try Fixtures.generator("tiny32")
        let shapes = linstoryFailure { _ = try back.apply(to: tiny) }
        #expect(shapes?.hasPrefix(path + ": ") == true && shapes?.contains("another model's shapes") == true, "\(shapes ?? "no error")")
        // The same shapes, other weights.
        let other = try Generator.random(try SceneTuningBench.bundled().generator.config, seed: 9)
        let weights = linstoryFailure { _ = try back.apply(to: other) }
        #expect(weights?.hasPrefix(path + ": ") == true && weights?.contains("tuned from another model") == true, "\(weights ?? "no error")")
        // Not a tuned scene at all.
        let model = SceneTuningBench.modelPath
        let format = linstoryFailure { _ = try TunedScene(path: model) }
        #expect(format?.hasPrefix(model + ": ") == true && format?.contains("not a tuned scene") == true, "\(format ?? "no error")")
    }

    /// A film's scenes tuned by cluster workers with different core counts must match: one worker and
    /// two give the same bits in every stored tensor.
    @Test func sameBitsWithOneAndTwoWorkers() throws {
        let bench = try SceneTuningBench.bundled()
        let r = try Self.run.get()
        var s = Self.settings()
        s.steps = 6
        s.localityInterval = 2
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        let scenes = try [1, 2].map { threads -> TunedScene in
            Parallel.threads = threads
            return try SceneTuner(settings: s).run(
                generator: bench.generator, statistics: bench.statistics, pivots: Array(r.pivots.prefix(3)),
                targets: r.targets.slice(0..<3), loss: try ImageLosses.named("default")
            ).scene
        }
        #expect(scenes[0].parameterNames == scenes[1].parameterNames)
        for name in scenes[0].parameterNames {
            if let a = scenes[0].lowRank[name], let b = scenes[1].lowRank[name] {
                #expect(sameBits(a.up, b.up) && sameBits(a.down, b.down), "\(name): the low-rank factors differ")
            }
            if let a = scenes[0].dense[name], let b = scenes[1].dense[name] { #expect(sameBits(a, b), "\(name): the delta differs") }
        }
        #expect(scenes[0].noiseOffsets.keys.sorted() == scenes[1].noiseOffsets.keys.sorted() && !scenes[0].noiseOffsets.isEmpty)
        for (name, a) in scenes[0].noiseOffsets { #expect(sameBits(a, scenes[1].noiseOffsets[name]!), "\(name): the noise offset differs") }
    }
}
