import Engine
import Foundation
import Testing
import TestSupport

/// The measurements behind `SceneProjector`'s defaults (frames a step, learning rate, knots), on the bundled model and clip: off unless
/// LINSTORY_SCENE_MEASURE is set, since a configuration takes minutes. Run as
///
///     LINSTORY_SCENE_MEASURE=1 LINSTORY_SCENE_SCENES=clip LINSTORY_SCENE_BUDGET=200 \
///     LINSTORY_SCENE_CONFIGS='sequential;knots=3,minseg=6;batch=2,lr=0.05' \
///     .build/release/linstoryPackageTests.xctest --testing-library swift-testing --filter SceneProjectorMeasurementTests
///
/// For each configuration (comma-separated `key=value` over the defaults, `warm=W` below; `sequential` is the
/// sequential method as the baseline): the held-out test of `compare` on each scene (the scene method
/// fitted to the even frames, the odd ones rendered halfway along its path; sequential fitted to all
/// frames, the odd ones rendered from the lerp of their neighbours), the PSNR of the frames fitted,
/// the knots, and the seconds. LINSTORY_SCENE_SCENES: `clip` (every scene of the clip), `some` (four
/// of them), or `a:b`.
///
/// Measured (session 15, budget 200, held-out / fitted dB). Over the `some` scenes: sequential
/// 23.61 / 23.77; scene at its defaults 21.20 / 21.17, no knot placed; `batch=2,lr=0.1` 22.70 /
/// 22.69. On scene 0..<24 (sequential 24.75): defaults 22.39; `knots=0` 22.02 (the probe's refit
/// rounds help even when no knot is placed); `split=1.1,minseg=2,knots=12` still no knot; forcing a
/// knot at every fitted frame (`split=0.001,minseg=2,knots=20`, batch 2, lr 0.1) 23.33, below the
/// straight line's 23.90; `budget=600` 23.58. So on this footage the line is not what falls short of
/// sequential: the path's optimisation is short of steps (at this budget sequential gives the
/// scene's first frame 1,450 steps and every other frame 145; the held-out fit to its 12 even frames
/// is 300 steps of 8 frames). Fewer frames a step buys steps, but
/// costs the ground-truth recovery its precision: at batch 2, lr 0.05, straight shots' worst frame
/// 32.2 dB (36.5 at the defaults) and the bent shots 27.9 (33.6), at lr 0.1 worse again (29.2 and
/// 23.0), and with only the first fit at 2 frames and 0.1 (the refits as before; a change to the code,
/// not a key here) 31.1 and 24.2,
/// for 23.44 dB on the clip's scene 0..<24; so the defaults stay.
///
/// `warm=W` starts the path from a least-squares line through a sequential pass over the fitted
/// frames at budget W (the path then gets the rest of the budget, so the total is the same): at
/// `warm=100` the `some` scenes reach 22.17 dB (21.20 at the defaults), scene 0..<24 23.02
/// (`warm=50`: 22.64). Not yet checked against the ground-truth recovery tests.
@Suite("Scene projector measurements (LINSTORY_SCENE_MEASURE)")
struct SceneProjectorMeasurementTests {
    static let enabled = ProcessInfo.processInfo.environment["LINSTORY_SCENE_MEASURE"] != nil
    static var env: [String: String] { ProcessInfo.processInfo.environment }

    /// A projector with `spec`'s `key=value` pairs applied.
    static func projector(_ spec: String, budget: Int) -> SceneProjector {
        var p = SceneProjector(settings: InversionSettings(), budget: budget)
        for pair in spec.split(separator: ",") {
            let kv = pair.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let v = Double(kv[1]) else { continue }
            switch kv[0] {
            case "knots": p.settings.maxKnots = Int(v)
            case "minseg": p.minimumSegment = Int(v)
            case "split": p.splitFactor = Float(v)
            case "probe": p.probeSteps = Int(v)
            case "lr": p.learningRate = Float(v)
            case "budget": p.budget = Int(v)
            case "noise": p.settings.optimizeNoise = v != 0
            case "batch": p.settings.batch = Int(v)
            case "warm": break
            default: Issue.record("unknown key \(kv[0])")
            }
        }
        return p
    }

    struct Row {
        var heldOut: Double, fitted: Double, knots: Int, seconds: Double
    }

    @Test(.enabled(if: enabled, "set LINSTORY_SCENE_MEASURE to measure"))
    func measure() throws {
        let bench = try SceneTuningBench.bundled()
        let all = SceneTuningMeasurementTests.clipScenes
        let spec = Self.env["LINSTORY_SCENE_SCENES"] ?? "some"
        let scenes = spec == "clip" ? all : spec == "some" ? [all[0], all[2], all[4], all[7]]
            : [spec.split(separator: ":").compactMap { Int($0) }].map { $0[0]..<$0[1] }
        let budget = Int(Self.env["LINSTORY_SCENE_BUDGET"] ?? "200")!
        let configs = (Self.env["LINSTORY_SCENE_CONFIGS"] ?? "sequential;").split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        let loss = try ImageLosses.named("default")
        for config in configs {
            var rows: [Row] = []
            for scene in scenes {
                let targets = bench.targets.slice(scene)
                let n = scene.count
                let odd = Array(stride(from: 1, to: n - 1, by: 2))
                let oddTargets = SceneTuningBench.rows(odd, of: targets)
                let start = Date()
                let row: Row
                if config == "sequential" {
                    var settings = InversionSettings()
                    settings.batch = 1
                    let steps = SequentialProjector.steps(forBudget: budget, frames: n, sceneStarts: 1)
                    let frames = try SequentialProjector(settings: settings, steps: steps).run(
                        generator: bench.generator, statistics: bench.statistics, loss: loss, targets: targets, sceneStarts: [0])
                    let mid = odd.map { t in LatentPath(from: t - 1, frames[t - 1], to: t + 1, frames[t + 1]).inversion(atFrame: Double(t)) }
                    row = Row(heldOut: bench.psnr(bench.generator, mid, oddTargets), fitted: bench.psnr(bench.generator, frames, targets),
                              knots: 0, seconds: Date().timeIntervalSince(start))
                } else {
                    let even = Array(stride(from: 0, to: n, by: 2))
                    let evenTargets = SceneTuningBench.rows(even, of: targets)
                    var projector = Self.projector(config, budget: budget)
                    if let w = config.split(separator: ",").first(where: { $0.hasPrefix("warm=") }).flatMap({ Int($0.dropFirst(5)) }) {
                        var s = InversionSettings()
                        s.batch = 1
                        let steps = SequentialProjector.steps(forBudget: w, frames: even.count, sceneStarts: 1)
                        let seq = try SequentialProjector(settings: s, steps: steps).run(
                            generator: bench.generator, statistics: bench.statistics, loss: loss, targets: evenTargets, sceneStarts: [0])
                        let file = FileManager.default.temporaryDirectory.appendingPathComponent("warm-\(UUID().uuidString).npy").path
                        try NpyArray.write(Tensor.concatenate(seq.map { $0.ws.reshaped([1] + $0.ws.shape) }), to: file)
                        projector.settings.initial = try InitialLatents(
                            path: file, numWs: bench.generator.config.numWs, wDim: bench.generator.config.wDim, count: even.count)
                        projector.budget = budget - w
                    }
                    let fit = try projector.run(
                        generator: bench.generator, statistics: bench.statistics, loss: loss, targets: evenTargets)
                    let mid = odd.map { t in
                        let latent = fit.path.latent(atFrame: Float(t - 1) / 2 + 0.5)
                        return FrameInversion(
                            ws: LatentSpace.broadcast(latent.reshaped([1] + latent.shape), numWs: bench.generator.config.numWs)
                                .reshaped([bench.generator.config.numWs, bench.generator.config.wDim]),
                            noise: fit.path.noise?.map { $0.reshaped(Array($0.shape.dropFirst())) }, lossHistory: [], finalLoss: 0, evaluations: 0)
                    }
                    row = Row(heldOut: bench.psnr(bench.generator, mid, oddTargets), fitted: bench.psnr(bench.generator, fit.frames, evenTargets),
                              knots: fit.path.knots.count - 2, seconds: Date().timeIntervalSince(start))
                }
                print(String(format: "[%@] scene %d..<%d: held-out %.2f dB, fitted %.2f dB, %d knots, %.1f s",
                             config, scene.lowerBound, scene.upperBound, row.heldOut, row.fitted, row.knots, row.seconds))
                rows.append(row)
            }
            let c = Double(rows.count)
            print(String(format: "[%@] %d scenes: held-out %.2f dB, fitted %.2f dB, %.1f knots, %.1f s a scene",
                         config, rows.count, rows.map(\.heldOut).reduce(0, +) / c, rows.map(\.fitted).reduce(0, +) / c,
                         Double(rows.map(\.knots).reduce(0, +)) / c, rows.map(\.seconds).reduce(0, +) / c))
        }
    }
}
