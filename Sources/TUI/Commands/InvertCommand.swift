import ArgumentParser
import Engine
import Foundation

struct InvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invert",
        abstract: "Invert every frame of a video into the generator's latent space.",
        discussion: """
            Methods: naive (every frame from w_avg, NVIDIA's projector), smooth (naive + a 5-tap latent
            filter within scenes), sequential (warm start from the previous frame + latent-distance loss),
            scene (each scene on a straight line in W/W+). --budget is generator forward+backward
            evaluations per frame, averaged over the clip, so methods compare at equal compute.
            The session folder keeps latents (.safetensors and projected_w-style .npz), noise maps,
            reconstructions, loss histories, metrics and a side-by-side mp4. Ctrl-C saves; --resume goes on.
            """)

    @Argument(help: "A video file or a folder of PNGs.") var video: String
    @Option(help: "The generator checkpoint.") var model: String
    @Option(help: "naive, smooth, sequential or scene.") var method: InversionMethod = .scene
    @Option(help: "The session folder.") var out: String
    @Option(help: "Evaluations per frame (default 200; --steps is the same for naive).") var budget: Int?
    @Option(help: "Steps per frame for naive/smooth (an alias of --budget).") var steps: Int?
    @Option(help: "w, w+, or w+fine (W+ with the fine layers shared per scene).") var space: LatentSpace = .wPlus
    @Option(help: "Scene cuts (JSON or PySceneDetect CSV); detected when absent.") var cuts: String?
    @Option(help: "Frames A:B (A included, B excluded).") var frames: FrameWindow?
    @Option(help: "center-crop, letterbox or stretch.") var fit: FitPolicy = .centerCrop
    @Option(help: "Image loss: \(ImageLosses.names.joined(separator: ", ")).") var loss: String = "default"
    @Flag(help: "Keep the model's constant noise instead of optimising noise maps.") var noNoise = false
    @Option(help: "Weight of the Gaussianized-W prior (0 = off).") var prior: Float = 0
    @Option(help: "Frames per generator batch.") var batch: Int = 8
    @Option(help: "Seed for noise initialisation.") var seed: UInt64 = 0
    @Flag(help: "Continue an interrupted run in the same session.") var resume = false
    @Option(help: "sequential: steps per warm-started frame, given outright instead of a share of --budget; fractions spread evenly (2.75: three frames in four get 3). 2.75 runs the bundled model in real time.")
    var warmSteps: Double?
    @Option(help: "sequential with --warm-steps: steps at each scene's first frame (default 10 x --warm-steps).") var firstSteps: Int?

    static let defaultBudget = 200

    func validate() throws {
        if let b = budget ?? steps, b < 1 { throw ValidationError("--budget must be at least 1") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if (warmSteps != nil || firstSteps != nil) && method != .sequential {
            throw ValidationError("--warm-steps and --first-steps are for --method sequential")
        }
        if firstSteps != nil && warmSteps == nil { throw ValidationError("--first-steps needs --warm-steps") }
        if let w = warmSteps, !(w >= 1 && w <= 10_000) { throw ValidationError("--warm-steps must be between 1 and 10000") }
        if let f = firstSteps, f < 1 { throw ValidationError("--first-steps must be at least 1") }
    }

    var schedule: SequentialProjector.Schedule? {
        warmSteps.map { SequentialProjector.Schedule(warm: $0, first: firstSteps ?? Int((10 * $0).rounded())) }
    }

    func run() throws {
        Interrupt.install()
        let context = try ModelContext(model: model)
        let g = context.generator
        var prepared = try CommandSession.prepare(
            video: video, model: model, out: out, resolution: g.config.imgResolution, fit: fit, window: frames?.range, cutsFile: cuts)
        // Read from the session's frame store a batch or a scene at a time, as the run needs them.
        let targets = StoredTargets(store: prepared.store, channels: g.config.imgChannels)
        let cutList = prepared.cuts!
        let count = prepared.count
        var settings = InversionSettings()
        settings.space = space
        settings.optimizeNoise = !noNoise
        settings.priorWeight = prior
        settings.batch = batch
        settings.seed = seed
        let budget = self.budget ?? steps ?? Self.defaultBudget
        let starts = SessionRun.sequentialStartFrames(cutList.scenes, first: prepared.session.manifest.first, count: count).count
        let total = schedule?.evaluations(frames: count, sceneStarts: starts) ?? budget * count
        let progress = CommandLineProgress(total: total, label: method.rawValue, unit: "it")
        let report = InversionProgressReport(progress: progress, scenes: cutList.scenes)
        var inversion = SessionRun(method: method, budget: budget, settings: settings, lossName: loss)
        inversion.sequentialSchedule = schedule
        inversion.onFinishing = { report.finishing($0, $1) }
        let outcome: SessionRun.Outcome
        do {
            outcome = try inversion.run(
                session: &prepared.session, generator: g, statistics: context.statistics, targets: targets, scenes: cutList.scenes,
                resume: resume
            ) { p in
                report.step(p)
                return !Interrupt.requested
            }
        } catch is InversionCancelled {
            report.finish()
            let done = prepared.session.manifest[method]?.framesDone ?? 0
            FileHandle.standardError.write("interrupted: \(done) of \(count) frames saved in \(out); continue with --resume\n".data(using: .utf8)!)
            throw ExitCode(130)
        }
        report.finish()
        print(MetricsTable.render([(method.rawValue, outcome.metrics, outcome.seconds)]))
        for note in outcome.notes { print("note: \(note)") }
        print("session: \(out) (latents/\(method.rawValue).npz, \(method.rawValue).mp4)")
    }
}
