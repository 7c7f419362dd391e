import Engine
import Foundation
import Testing
import TestSupport

/// The measurements behind `SceneTuningSettings`' defaults (its doc comment has them), on the bundled
/// model and clip: off unless LINSTORY_TUNE_MEASURE is set, since one scene takes minutes. Run as
///
///     LINSTORY_TUNE_MEASURE=1 LINSTORY_TUNE_SCENE=0:24 LINSTORY_TUNE_METHOD=scene LINSTORY_TUNE_BUDGET=150 \
///     LINSTORY_TUNE_LOSS=mse LINSTORY_TUNE_CONFIGS='rank=8;rank=4,steps=200' \
///     swift test -c release --skip-build --scratch-path .build-tune --filter SceneTuningMeasurementTests
///
/// For each configuration (comma-separated `key=value` over the defaults, configurations separated by
/// `;`): PSNR of the scene's frames before and after tuning on all of them; tuned on the even frames
/// only (pivots fitted to the even frames alone), the PSNR of the odd frames rendered from the pivots'
/// path before and after; seconds of the tuning on all frames; bytes; and locality: the mean squared
/// change of images of random latents (psi 0.7) against that of the pivots' images.
/// LINSTORY_TUNE_SCENE=clip runs every scene of the clip and prints the means; pivots are kept in the
/// temporary folder between runs.
@Suite("Scene tuning measurements (LINSTORY_TUNE_MEASURE)")
struct SceneTuningMeasurementTests {
    static let enabled = ProcessInfo.processInfo.environment["LINSTORY_TUNE_MEASURE"] != nil
    static var env: [String: String] { ProcessInfo.processInfo.environment }

    /// `settings` with `spec`'s `key=value` pairs applied.
    static func settings(_ spec: String) -> SceneTuningSettings {
        var s = SceneTuningSettings()
        for pair in spec.split(separator: ",") {
            let kv = pair.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let v = Double(kv[1]) else { continue }
            switch kv[0] {
            case "steps": s.steps = Int(v)
            case "batch": s.batch = Int(v)
            case "rank": s.rank = Int(v)
            case "affine": s.affineRank = Int(v)
            case "lr": s.learningRate = Float(v)
            case "ramp": s.rampDown = Float(v)
            case "small": s.tuneSmallTensors = v != 0
            case "smalllr": s.smallTensorLearningRate = Float(v)
            case "reg": s.localityWeight = Float(v)
            case "interval": s.localityInterval = Int(v)
            case "regbatch": s.localityBatch = Int(v)
            case "pool": s.localityPool = Int(v)
            case "radius": s.localityRadius = Float(v)
            case "psi": s.localityPsi = Float(v)
            case "seed": s.seed = UInt64(v)
            case "div": s.divergence = Float(v)
            case "log": s.logLoss = v != 0
            case "noise": s.noiseLearningRate = Float(v)
            default: Issue.record("unknown key \(kv[0])")
            }
        }
        return s
    }

    /// This process's user + system CPU time: on a machine shared with other work, CPU seconds / cores
    /// is what the wall time would be alone (the tuner keeps both cores busy).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// The bundled clip's scenes without their transition frames (`linstory detect assets/bbb-cuts.mp4`:
    /// cuts at 24, 44, 100, 126, 182, a dissolve over 72-81 and a fade over 146-165).
    static let clipScenes = [0..<24, 24..<44, 44..<72, 82..<100, 100..<126, 126..<146, 166..<182, 182..<202]

    /// One configuration's numbers on one scene.
    struct Row {
        var psnr: Double, heldOut: Double, seconds: Double
    }

    @Test(.enabled(if: enabled, "set LINSTORY_TUNE_MEASURE to measure"))
    func measure() throws {
        let bench = try SceneTuningBench.bundled()
        let spec = Self.env["LINSTORY_TUNE_SCENE"] ?? "0:24"
        let scenes = spec == "clip" ? Self.clipScenes : [spec.split(separator: ":").compactMap { Int($0) }].map { $0[0]..<$0[1] }
        let configs = (Self.env["LINSTORY_TUNE_CONFIGS"] ?? "").split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        var rows: [[Row]] = []  // [scene][config], config 0 the untuned model
        for scene in scenes { rows.append(try measure(bench, scene: scene, configs: configs)) }
        if scenes.count > 1 {
            for (k, name) in (["untuned"] + configs).enumerated() {
                let r = rows.map { $0[k] }
                print(String(
                    format: "clip, %d scenes, [%@]: mean PSNR %.2f dB, held-out %.2f dB, %.1f s a scene", scenes.count, name,
                    r.map(\.psnr).reduce(0, +) / Double(r.count), r.map(\.heldOut).reduce(0, +) / Double(r.count),
                    r.map(\.seconds).reduce(0, +) / Double(r.count)))
            }
        }
    }

    func measure(_ bench: SceneTuningBench, scene: Range<Int>, configs: [String]) throws -> [Row] {
        let method = Self.env["LINSTORY_TUNE_METHOD"] ?? "scene"
        let budget = Int(Self.env["LINSTORY_TUNE_BUDGET"] ?? "150")!
        let loss = try ImageLosses.named(Self.env["LINSTORY_TUNE_LOSS"] ?? "mse")
        let targets = bench.targets.slice(scene)
        let n = scene.count
        let even = Array(stride(from: 0, to: n, by: 2))
        let odd = Array(stride(from: 1, to: n - 1, by: 2))

        let all = try bench.pivots(scene: scene, method: method, budget: budget, subset: "all") { try SceneTuningBench.invert(bench, method: method, budget: budget, targets: targets) }
        let evenTargets = SceneTuningBench.rows(even, of: targets)
        let evenPivots = try bench.pivots(scene: scene, method: method, budget: budget, subset: "even") {
            try SceneTuningBench.invert(bench, method: method, budget: budget, targets: evenTargets)
        }
        // Odd frame t halfway between even frames t - 1 and t + 1 (their k = (t - 1) / 2 and k + 1),
        // with the earlier one's noise: for the scene method this is its line at the frame's t.
        let heldOut = odd.map { t in LatentPath(from: t - 1, evenPivots[(t - 1) / 2], to: t + 1, evenPivots[(t + 1) / 2]).inversion(atFrame: Double(t)) }
        let oddTargets = SceneTuningBench.rows(odd, of: targets)
        var rows = [Row(psnr: bench.psnr(bench.generator, all, targets), heldOut: bench.psnr(bench.generator, heldOut, oddTargets), seconds: 0)]
        print("scene \(scene) (\(n) frames), pivots: \(method) at budget \(budget), loss \(loss.name)")
        print(String(format: "untuned: PSNR %.2f dB, held-out %.2f dB", rows[0].psnr, rows[0].heldOut))

        for spec in configs {
            let s = Self.settings(spec)
            let tuner = SceneTuner(settings: s)
            let cpuBefore = Self.cpuSeconds()
            let r = try tuner.run(generator: bench.generator, statistics: bench.statistics, pivots: all, targets: targets, loss: loss)
            let cpu = Self.cpuSeconds() - cpuBefore
            let g = try r.scene.apply(to: bench.generator)
            // LINSTORY_TUNE_HELDOUT=0 skips the held-out run (the columns repeat the untuned values).
            let skipHeldOut = Self.env["LINSTORY_TUNE_HELDOUT"] == "0"
            let gh = skipHeldOut ? bench.generator : try tuner.run(
                generator: bench.generator, statistics: bench.statistics, pivots: evenPivots, targets: evenTargets, loss: loss
            ).scene.apply(to: bench.generator)
            let change = bench.locality(base: bench.generator, tuned: g, pivots: all)
            let row = Row(psnr: bench.psnr(g, all, targets), heldOut: bench.psnr(gh, heldOut, oddTargets), seconds: r.seconds)
            rows.append(row)
            print(String(
                format: "[%@] %d backtracks, PSNR %.2f dB, held-out %.2f (even %.2f), %.1f s (%.1f s of CPU), %d bytes (%.1f%% of the model), loss %.4f -> %.4f, locality: random %.2e vs pivots %.2e (ratio %.3f)",
                spec, r.backtracks, row.psnr, row.heldOut, bench.psnr(gh, evenPivots, evenTargets), r.seconds, cpu,
                r.scene.byteCount, 100 * Double(r.scene.byteCount) / Double(bench.modelBytes),
                r.lossHistory.prefix(10).reduce(0, +) / 10, r.lossHistory.suffix(10).reduce(0, +) / 10, change.random, change.pivots,
                change.random / change.pivots))
        }
        return rows
    }
}
