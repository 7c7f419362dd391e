import Engine
import Foundation

/// What `invert --tune` and `compare --tune` do after a method has finished: tune its scenes
/// (a progress bar, a log line a scene), then measure the method with its tuned scenes (the held-out
/// test tunes again on even frames, on a bar of its own). Ctrl-C stops between steps; the scenes
/// tuned so far are kept and a rerun takes them as they are.
enum CommandTuning {
    struct Outcome {
        var metrics: ClipMetrics
        var reports: [SessionTuning.SceneReport]
        /// Seconds spent tuning the scenes (not the held-out test).
        var seconds: Double
    }

    static func run(
        tuning: SessionTuning, session: SessionFolder, method: InversionMethod, run: SessionRun, generator: Generator, statistics: WStatistics,
        targets: any TargetFrames, scenes: SceneList, label: String, perceptual: (any ImageLoss)? = nil
    ) throws -> Outcome {
        let first = session.manifest.first
        let clean = SessionRun.localScenes(scenes, first: first, count: targets.count).map(\.clean).filter { !$0.isEmpty }
        let steps = tuning.settings.steps
        func bar(_ scenes: Int, _ what: String) -> (CommandLineProgress, SessionTuning.Observer) {
            let progress = CommandLineProgress(total: scenes * steps, label: label + " " + what, unit: "steps")
            let seen = SceneSeen()
            return (progress, { scene, index, count, p in
                if seen.moved(to: index) {
                    progress.milestone("scene \(index + 1) of \(count) (frames \(scene.lowerBound + first)-\(scene.upperBound - 1 + first)): tuning")
                }
                progress.advance(by: 1, detail: String(format: "scene %d of %d: step %d/%d loss %.4f", index + 1, count, p.step, p.steps, p.loss))
                return !Interrupt.requested
            })
        }
        let started = Date()
        let (tuneBar, tuneObserver) = bar(clean.count, "tune")
        let reports: [SessionTuning.SceneReport]
        do {
            reports = try tuning.tune(
                session: session, method: method, generator: generator, statistics: statistics, targets: targets, scenes: clean, observer: tuneObserver)
        } catch is InversionCancelled {
            tuneBar.finish()
            FileHandle.standardError.write("interrupted while tuning \(method.rawValue); tuned scenes are saved in \(session.folder)/tuned; run again to go on\n".data(using: .utf8)!)
            throw InversionCancelled()
        }
        tuneBar.finish()
        let seconds = Date().timeIntervalSince(started)
        let generators = SceneGenerators(base: generator, session: session, method: method)
        let (heldBar, heldObserver) = bar(run.measureHeldOut ? clean.filter { $0.count >= 3 }.count : 0, "held-out")
        defer { heldBar.finish() }
        let metrics = try tuning.measure(
            session: session, method: method, run: run, generators: generators, statistics: statistics, targets: targets, scenes: clean,
            heldOut: run.measureHeldOut, perceptual: perceptual, observer: heldObserver)
        return Outcome(metrics: metrics, reports: reports, seconds: seconds)
    }

    /// One line on what tuning kept: scenes, bytes a scene against the model, seconds a scene.
    static func summary(_ o: Outcome, modelBytes: Int?) -> String {
        let tuned = o.reports.filter { !$0.reused }
        let bytes = o.reports.map(\.bytes).max() ?? 0
        let share = modelBytes.map { String(format: " (%.1f%% of the model)", 100 * Double(bytes) / Double($0)) } ?? ""
        let perScene = tuned.isEmpty ? "" : String(format: ", %.1f s a scene", tuned.map(\.seconds).reduce(0, +) / Double(tuned.count))
        return "tuned \(o.reports.count) scenes (\(o.reports.count - tuned.count) kept from before)\(perScene); at most \(bytes) bytes a scene\(share)"
    }

    /// Tells when the tuning moves to another scene.
    private final class SceneSeen: @unchecked Sendable {
        private let lock = NSLock()
        private var current = -1
        func moved(to index: Int) -> Bool {
            lock.lock()
            defer { lock.unlock() }
            guard index != current else { return false }
            current = index
            return true
        }
    }
}
