import ArgumentParser
import Engine
import Foundation

/// `linstory finalize SESSION`: what needs every frame of a method (the assembled latents, the
/// reconstructions, metrics, the side-by-side mp4), once workers have saved them all; it refuses,
/// naming the missing frames, while any is missing.
struct FinalizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finalize",
        abstract: "Build a session's latents, metrics and video once every frame is saved (after invert --shard or slurm).",
        discussion: """
            Without --method, every method the session records that is not finalized yet. The held-out
            test (metrics' interpolation column) is measured for the per-frame methods; for scene it
            fits every scene again, so it runs only with --held-out.
            """)

    @Argument(help: "A session folder.") var session: String
    @Option(help: "The method to finalize (default: every unfinished one).") var method: InversionMethod?
    @Option(help: "The model (default: the one the session was made with).") var model: String?
    @Flag(help: "scene: measure the held-out test too (fits every scene again).") var heldOut = false

    func run() throws {
        Interrupt.install()
        var s = try SessionFolder.read(folder: session)
        let m = s.manifest
        let methods = method.map { [$0] } ?? InversionMethod.allCases.filter { m[$0] != nil && m[$0]?.complete != true }
        guard !methods.isEmpty else {
            print("nothing to finalize in \(session): every recorded method is finalized")
            return
        }
        for method in methods where m[method] == nil {
            throw LinstoryError(.notFound, file: s.manifestPath, "no \(method.rawValue) inversion in this session")
        }
        let modelPath = try m.model.locate(override: model, what: "model", record: s.manifestPath, hint: "give it with --model FILE")
        let context = try ModelContext(model: modelPath)
        let g = context.generator
        let scenes = try s.cutList().scenes
        let targets = try CommandSession.storedTargets(s, channels: g.config.imgChannels)
        var rows: [(String, ClipMetrics, Double)] = []
        for method in methods {
            var run = try SessionRun(method: method, record: m[method]!)
            run.measureHeldOut = method != .scene || heldOut
            // Made on the first frame: a refusal prints its one line and no bar.
            let progress = LazyProgress(label: "\(method.rawValue) final", unit: "frames")
            run.onFinishing = { done, total in progress.update(done, total) }
            let heldOutBar = LazyProgress(label: "\(method.rawValue) held-out", unit: "scenes")
            run.onHeldOut = { done, total in
                progress.finish()  // once: the held-out bar takes its place
                heldOutBar.update(done, total)
            }
            let outcome: SessionRun.Outcome
            do {
                outcome = try run.finish(session: &s, generator: g, statistics: context.statistics, targets: targets, scenes: scenes)
            } catch let e as LinstoryError where e.kind == .incomplete {
                progress.finish()
                heldOutBar.finish()
                let problem = e.problem + " (linstory status \(session) says which shards)"
                throw e.file.map { LinstoryError(.incomplete, file: $0, problem) } ?? LinstoryError(.incomplete, problem)
            }
            progress.finish()
            heldOutBar.finish()
            rows.append((method.rawValue, outcome.metrics, outcome.seconds))
            print("finalized \(method.rawValue): \(session)/latents/\(method.rawValue).safetensors, .npz, \(method.rawValue).mp4")
        }
        print(MetricsTable.render(rows))
    }
}
