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

    @OptionGroup var options: InversionOptions
    @OptionGroup var tuning: TuningOptions
    @Flag(help: "Continue an interrupted run in the same session.") var resume = false
    @Option(help: "Invert only shard I of N (whole scenes, balanced by frames; implies --resume); many workers may fill one session at once. Then: linstory finalize SESSION.")
    var shard: String?

    func validate() throws {
        if let shard { _ = try SessionShard(parsing: shard) }
        if shard != nil, tuning.tune { throw ValidationError("--tune works on a whole session: tune with invert --tune --resume once every shard is finalized") }
    }

    func run() throws {
        Interrupt.install()
        if let shard { return try runShard(try SessionShard(parsing: shard)) }
        let context = try ModelContext(model: options.model)
        let g = context.generator
        try options.checkFiles(generator: g)
        let method = options.method, out = options.out
        var prepared = try CommandSession.prepare(
            video: options.video, model: options.model, out: out, resolution: g.config.imgResolution, fit: options.fit,
            window: options.frames?.range, cutsFile: options.cuts)
        // Read from the session's frame store a batch or a scene at a time, as the run needs them.
        let targets = StoredTargets(store: prepared.store, channels: g.config.imgChannels)
        let cutList = prepared.cuts!
        let count = prepared.count
        var inversion = options.run
        // The held-out test with tuning reuses the scene method's fits from the test without it.
        if tuning.tune { inversion.heldOutFits = HeldOutTest.SceneFits() }
        let starts = SessionRun.sequentialStartFrames(cutList.scenes, first: prepared.session.manifest.first, count: count).count
        let total = inversion.expectedEvaluations(count: count, starts: starts)
        let progress = CommandLineProgress(total: total, label: method.rawValue, unit: "it")
        let report = InversionProgressReport(progress: progress, scenes: cutList.scenes)
        inversion.onFinishing = { report.finishing($0, $1) }
        inversion.onHeldOut = { report.heldOut($0, $1) }
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
        var rows = [MetricsTable.Row(method: method.rawValue, loss: "", metrics: outcome.metrics, seconds: outcome.seconds)]
        var tuned: CommandTuning.Outcome?
        if tuning.tune {
            do {
                tuned = try CommandTuning.run(
                    tuning: SessionTuning(settings: tuning.settings), session: prepared.session, method: method, run: inversion, generator: g,
                    statistics: context.statistics, targets: targets, scenes: cutList.scenes, label: method.rawValue)
            } catch is InversionCancelled {
                throw ExitCode(130)
            }
            rows.append(MetricsTable.Row(method: method.rawValue + " +tune", loss: "", metrics: tuned!.metrics, seconds: outcome.seconds + tuned!.seconds))
        }
        print(MetricsTable.render(rows))
        for note in outcome.notes { print("note: \(note)") }
        if let tuned { print(CommandTuning.summary(tuned, modelBytes: g.parameterBytes)) }
        print("session: \(out) (latents/\(method.rawValue).npz, \(method.rawValue).mp4\(tuned == nil ? "" : ", tuned/\(method.rawValue)/"))")
    }

    /// One worker's share: the session prepared under its lock (the first worker decodes the video
    /// and records the settings; the others find them), then the shard's scenes, then a word on what
    /// is left. The session's files that need every frame come from `linstory finalize`.
    private func runShard(_ shard: SessionShard) throws {
        let context = try ModelContext(model: options.model)
        let g = context.generator
        try options.checkFiles(generator: g)
        let method = options.method, out = options.out
        let inversion = options.run
        var prepared: SessionPreparation
        do {
            let lock = try SessionLock(folder: out)
            prepared = try CommandSession.prepare(
                video: options.video, model: options.model, out: out, resolution: g.config.imgResolution, fit: options.fit,
                window: options.frames?.range, cutsFile: options.cuts)
            try inversion.adopt(session: &prepared.session)
            withExtendedLifetime(lock) {}
        }
        let cutList = prepared.cuts!
        let targets = StoredTargets(store: prepared.store, channels: g.config.imgChannels)
        let local = SessionRun.localScenes(cutList.scenes, first: prepared.session.manifest.first, count: prepared.count)
        let mine = shard.scenes(of: local)
        let frames = mine.reduce(0) { $0 + $1.frames.count }
        let starts = ClipInversion.sequentialStarts(local.map(\.frames), clean: local.map(\.clean))
        let mineStarts = starts.filter { f in mine.contains { $0.frames.contains(f) } }.count
        let total = inversion.expectedEvaluations(count: prepared.count, starts: starts.count, pending: frames, pendingStarts: mineStarts)
        let progress = CommandLineProgress(total: total, label: "\(method.rawValue) \(shard)", unit: "it")
        let report = InversionProgressReport(progress: progress, scenes: cutList.scenes)
        let environment = ProcessInfo.processInfo.environment
        let job = environment["SLURM_ARRAY_JOB_ID"].map { "\($0)_\(environment["SLURM_ARRAY_TASK_ID"] ?? "")" } ?? environment["SLURM_JOB_ID"]
        let outcome: SessionRun.ShardOutcome
        do {
            outcome = try inversion.runShard(
                shard, session: prepared.session, generator: g, statistics: context.statistics, targets: targets, scenes: cutList.scenes, job: job
            ) { p in
                report.step(p)
                return !Interrupt.requested
            }
        } catch is InversionCancelled {
            report.finish()
            FileHandle.standardError.write("interrupted: shard \(shard) stopped in \(out); run it again to finish it\n".data(using: .utf8)!)
            throw ExitCode(130)
        }
        report.finish()
        let s = outcome.status
        print("shard \(shard) of \(method.rawValue): \(s.framesDone) of \(s.frames) frames saved (\(outcome.framesInverted) inverted now, \(s.scenes) scenes)")
        print("when every shard is done: linstory finalize \(out) --method \(method.rawValue)   (progress: linstory status \(out))")
    }
}
