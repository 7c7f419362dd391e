import Engine
import Foundation

/// How fast `sequential` runs on a clip, and at what quality against `naive`: frames per second
/// within scenes (warm-started frames) and over the whole clip (scene starts included), and the
/// mean PSNR of both methods on the same frames (naive on every `naiveStride`-th frame, at its
/// default budget: running it on all would take longer than the rest of the bench together).
struct SequentialBenchmark {
    var warmSteps: [Double]
    /// Steps at a scene's first frame (the projector's schedule).
    var firstSteps: Int
    var naiveSteps: Int
    var naiveStride: Int

    struct Row {
        var warmSteps: Double
        var firstSteps: Int
        var warmFPS: Double
        var clipFPS: Double
        var psnr: Double
        var psnrOnNaiveFrames: Double
        var naivePSNR: Double
        var naiveSteps: Int

        var json: String {
            String(
                format: #"{"impl": "linstory", "op": "sequential", "warm_steps": %g, "first_steps": %d, "fps_in_scene": %.2f, "fps_clip": %.2f, "psnr": %.2f, "psnr_on_naive_frames": %.2f, "naive_psnr": %.2f, "naive_steps": %d}"#,
                warmSteps, firstSteps, warmFPS, clipFPS, psnr, psnrOnNaiveFrames, naivePSNR, naiveSteps)
        }
    }

    func measure(generator g: Generator, statistics: WStatistics, targets: Tensor, scenes: SceneList) throws -> [Row] {
        let loss = try ImageLosses.named("default")
        let settings = InversionSettings()
        let count = targets.shape[0]
        // The session's rule for where sequential starts afresh, so the bench measures what invert runs.
        let starts = Set(SessionRun.sequentialStartFrames(scenes, first: 0, count: count))
        // naive at its default budget on every stride-th frame.
        let sampled = Array(stride(from: 0, to: count, by: naiveStride))
        let naiveTargets = Tensor.concatenate(sampled.map { targets.slice($0..<($0 + 1)) })
        let naive = try NaiveProjector(settings: settings, steps: naiveSteps).run(
            generator: g, statistics: statistics, loss: loss, targets: naiveTargets)
        let naivePSNR = mean(ImageMetrics.psnr(render(g, naive), naiveTargets))

        var rows: [Row] = []
        for steps in warmSteps {
            var seq = SequentialProjector(settings: settings, steps: 1)
            seq.schedule = .init(warm: steps, first: firstSteps)
            var finished: [Double] = []
            let begin = Date()
            let frames = try seq.run(
                generator: g, statistics: statistics, loss: loss, targets: targets, sceneStarts: starts,
                sink: { _, _ in finished.append(Date().timeIntervalSince(begin)) })
            let total = Date().timeIntervalSince(begin)
            var warmSeconds = 0.0, warmFrames = 0
            for f in 0..<count where !starts.contains(f) && f > 0 {
                warmSeconds += finished[f] - finished[f - 1]
                warmFrames += 1
            }
            let psnr = ImageMetrics.psnr(render(g, frames), targets)
            rows.append(Row(
                warmSteps: steps, firstSteps: firstSteps, warmFPS: Double(warmFrames) / warmSeconds,
                clipFPS: Double(count) / total, psnr: mean(psnr), psnrOnNaiveFrames: mean(sampled.map { psnr[$0] }),
                naivePSNR: naivePSNR, naiveSteps: naiveSteps))
        }
        return rows
    }

    private func render(_ g: Generator, _ frames: [FrameInversion]) -> Tensor {
        let workspace = SynthesisWorkspace(network: g.synthesis, batch: 1)
        return Tensor.concatenate(frames.map { g.synthesis.render($0, workspace: workspace) })
    }

    private func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }

    static func table(_ rows: [Row]) -> String {
        var lines = ["sequential on the clip (naive's PSNR on every sampled frame at its default budget)",
                     "warm steps  first steps  fps in scene  fps clip  PSNR dB  on naive's frames  naive PSNR  gap dB"]
        for r in rows {
            lines.append(String(
                format: "%10g  %11d  %12.1f  %8.1f  %7.2f  %17.2f  %10.2f  %6.2f", r.warmSteps, r.firstSteps, r.warmFPS, r.clipFPS,
                r.psnr, r.psnrOnNaiveFrames, r.naivePSNR, r.naivePSNR - r.psnrOnNaiveFrames))
        }
        return lines.joined(separator: "\n")
    }
}
