import ArgumentParser
import Engine
import Foundation

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run every method at equal budget and print one table (also as JSON and Markdown).",
        discussion: """
            All four methods get the same --budget (generator forward+backward evaluations per frame,
            averaged over the clip). smooth reuses the naive run's latents (it is naive plus a filter).
            DIR becomes a session folder holding every method's results, compare.json and compare.md.
            Several losses (--loss l1,default,d-features) each get a session folder under DIR and their
            own rows. Every row reports PSNR and SSIM, and LPIPS when --lpips-vgg and --lpips-lin are
            given, whatever loss it optimised: a loss cannot win by grading itself. With --tune each
            method also gets a "+tune" row: its scenes' generators tuned around its latents, the
            held-out test tuned on the even frames alone; its seconds include the inversion's.
            """)

    @Argument(help: "A video file or a folder of PNGs.") var video: String
    @Option(help: "The generator checkpoint.") var model: String
    @Option(help: "The output (session) folder.") var out: String
    @Option(help: "Evaluations per frame for every method.") var budget: Int = CompareCommand.defaultBudget
    @Option(help: "w, w+, or w+fine (W+ with the fine layers shared per scene).") var space: LatentSpace = .wPlus
    @Option(help: "Scene cuts (JSON or PySceneDetect CSV); detected when absent.") var cuts: String?
    @Option(help: "Frames A:B (A included, B excluded).") var frames: FrameWindow?
    @Option(help: "Image loss, or several separated by commas: \(ImageLosses.grammar).") var loss: String = "default"
    @OptionGroup var lossFiles: LossFileOptions
    @Option(help: "Methods separated by commas (default: all four).") var methods: String?
    @Option(name: .customLong("init"), help: "Start every method from these latents (.npz with key w, or .npy).") var initLatents: String?
    @Flag(help: "Keep the model's constant noise instead of optimising noise maps.") var noNoise = false
    @Option(help: "scene: knots a scene's path may bend at (0: one straight line per scene).") var maxKnots: Int = InversionSettings().maxKnots
    @Flag(help: "Continue an interrupted compare.") var resume = false
    @OptionGroup var tuning: TuningOptions

    /// Chosen so the bundled 202-frame clip finishes in well under 15 minutes on 2 cores.
    static let defaultBudget = 24

    var losses: [String] { loss.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }

    func chosenMethods() throws -> [InversionMethod] {
        guard let methods else { return InversionMethod.allCases }
        return try methods.split(separator: ",").map { name in
            guard let m = InversionMethod(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("unknown method '\(name)' (known: \(InversionMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return m
        }
    }

    func run() throws {
        Interrupt.install()
        let context = try ModelContext(model: model)
        let g = context.generator
        let methodList = try chosenMethods()
        let losses = self.losses
        guard !losses.isEmpty else { throw ValidationError("--loss names no loss") }
        if maxKnots < 0 { throw ValidationError("--max-knots must be 0 or more") }
        // Every loss is built once here, so a missing weight file stops the run before any work.
        for l in losses { try lossFiles.check(loss: l, model: model, initial: initLatents, generator: g) }
        let lpipsFiles = lossFiles.files(loss: "lpips", model: model)
        let lpips = lpipsFiles.lpipsVGG != nil || lpipsFiles.lpipsLinear != nil ? try ImageLosses.make("lpips", files: lpipsFiles, resolution: g.config.imgResolution) : nil
        var rows: [MetricsTable.Row] = []
        for l in losses {
            // One session a loss: a session holds one run of each method.
            let folder = losses.count == 1 ? out : out + "/loss-" + String(l.map { $0.isLetter || $0.isNumber || $0 == "." ? $0 : "_" })
            rows += try compare(loss: l, folder: folder, methods: methodList, context: context, lpips: lpips)
        }
        let table = MetricsTable.render(rows)
        print(table)
        var command = "linstory compare \(video) --model \(model) --out \(out) --budget \(budget)"
            + (frames.map { " --frames \($0.lower):\($0.upper.map(String.init) ?? "")" } ?? "")
        if loss != "default" { command += " --loss \(loss)" }
        if let methods { command += " --methods \(methods)" }
        if tuning.tune { command += " --tune" + (tuning.tuneSteps == SceneTuningSettings().steps ? "" : " --tune-steps \(tuning.tuneSteps)") }
        if maxKnots != InversionSettings().maxKnots { command += " --max-knots \(maxKnots)" }
        try AtomicFile.write(Array((MetricsTable.markdown(rows) + "\n\nMade by: `\(command)`\n").utf8), to: out + "/compare.md")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = Dictionary(uniqueKeysWithValues: rows.map {
            (losses.count == 1 ? $0.method : "\($0.method) \($0.loss)", CompareEntry(metrics: $0.metrics.clip, seconds: $0.seconds, budget: budget, loss: $0.loss))
        })
        try AtomicFile.write(try encoder.encode(json), to: out + "/compare.json")
        print("tables: \(out)/compare.md, \(out)/compare.json")
    }

    /// Every method with one loss in one session folder: a row each.
    func compare(
        loss: String, folder: String, methods: [InversionMethod], context: ModelContext, lpips: (any ImageLoss)?
    ) throws -> [MetricsTable.Row] {
        let g = context.generator
        var prepared = try CommandSession.prepare(
            video: video, model: model, out: folder, resolution: g.config.imgResolution, window: frames?.range, cutsFile: cuts)
        // Read from the session's frame store a batch or a scene at a time, as the run needs them.
        let targets = StoredTargets(store: prepared.store, channels: g.config.imgChannels)
        let cutList = prepared.cuts!
        let count = prepared.count
        var settings = InversionSettings()
        settings.space = space
        settings.optimizeNoise = !noNoise
        settings.maxKnots = maxKnots
        var rows: [MetricsTable.Row] = []
        for method in methods {
            let name = method.rawValue + (self.losses.count > 1 ? " " + loss : "")
            let label = name.count < 10 ? name.padding(toLength: 10, withPad: " ", startingAt: 0) : name
            var run = SessionRun(method: method, budget: budget, settings: settings, lossName: loss)
            let starts = SessionRun.sequentialStartFrames(cutList.scenes, first: prepared.session.manifest.first, count: count).count
            let progress = CommandLineProgress(total: run.expectedEvaluations(count: count, starts: starts), label: label, unit: "it")
            let report = InversionProgressReport(progress: progress, scenes: cutList.scenes)
            do {
                run.lossFiles = lossFiles.files(loss: loss, model: model)
                run.initialLatents = initLatents
                run.perceptualMetric = lpips
                if tuning.tune { run.heldOutFits = HeldOutTest.SceneFits() }
                run.onFinishing = { report.finishing($0, $1) }
                run.onHeldOut = { report.heldOut($0, $1) }
                let outcome = try run.run(
                    session: &prepared.session, generator: g, statistics: context.statistics, targets: targets, scenes: cutList.scenes,
                    resume: resume, smoothFromNaive: true
                ) { p in
                    report.step(p)
                    return !Interrupt.requested
                }
                report.finish()
                // smooth at equal compute is naive's run filtered: it reports naive's time.
                let naiveSeconds = rows.first { $0.method == InversionMethod.naive.rawValue }?.seconds
                let seconds = method == .smooth ? naiveSeconds ?? outcome.seconds : outcome.seconds
                rows.append(MetricsTable.Row(method: method.rawValue, loss: loss, metrics: outcome.metrics, seconds: seconds))
                if tuning.tune {
                    let tuned = try CommandTuning.run(
                        tuning: SessionTuning(settings: tuning.settings), session: prepared.session, method: method, run: run, generator: g,
                        statistics: context.statistics, targets: targets, scenes: cutList.scenes, label: label.trimmingCharacters(in: .whitespaces),
                        perceptual: lpips)
                    rows.append(MetricsTable.Row(method: method.rawValue + " +tune", loss: loss, metrics: tuned.metrics, seconds: seconds + tuned.seconds))
                    FileHandle.standardError.write((CommandTuning.summary(tuned, modelBytes: g.parameterBytes) + "\n").data(using: .utf8)!)
                }
            } catch is InversionCancelled {
                report.finish()
                FileHandle.standardError.write("interrupted during \(method.rawValue); finished methods are saved in \(folder); continue with --resume\n".data(using: .utf8)!)
                throw ExitCode(130)
            }
        }
        return rows
    }

    struct CompareEntry: Codable {
        var metrics: ClipMetrics.Figures
        var seconds: Double
        var budget: Int
        var loss: String
    }
}
