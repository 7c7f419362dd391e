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
            """)

    @Argument(help: "A video file or a folder of PNGs.") var video: String
    @Option(help: "The generator checkpoint.") var model: String
    @Option(help: "The output (session) folder.") var out: String
    @Option(help: "Evaluations per frame for every method.") var budget: Int = CompareCommand.defaultBudget
    @Option(help: "w, w+, or w+fine (W+ with the fine layers shared per scene).") var space: LatentSpace = .wPlus
    @Option(help: "Scene cuts (JSON or PySceneDetect CSV); detected when absent.") var cuts: String?
    @Option(help: "Frames A:B (A included, B excluded).") var frames: FrameWindow?
    @Option(help: "Image loss.") var loss: String = "default"
    @Flag(help: "Keep the model's constant noise instead of optimising noise maps.") var noNoise = false
    @Flag(help: "Continue an interrupted compare.") var resume = false

    /// Chosen so the bundled 202-frame clip finishes in well under 15 minutes on 2 cores.
    static let defaultBudget = 24

    func run() throws {
        Interrupt.install()
        let context = try ModelContext(model: model)
        let g = context.generator
        var prepared = try CommandSession.prepare(
            video: video, model: model, out: out, resolution: g.config.imgResolution, window: frames?.range, cutsFile: cuts)
        // Read from the session's frame store a batch or a scene at a time, as the run needs them.
        let targets = StoredTargets(store: prepared.store, channels: g.config.imgChannels)
        let cutList = prepared.cuts!
        let count = prepared.count
        var settings = InversionSettings()
        settings.space = space
        settings.optimizeNoise = !noNoise
        var rows: [(String, ClipMetrics, Double)] = []
        for method in InversionMethod.allCases {
            let progress = CommandLineProgress(total: budget * count, label: method.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0), unit: "it")
            let report = InversionProgressReport(progress: progress, scenes: cutList.scenes)
            do {
                var run = SessionRun(method: method, budget: budget, settings: settings, lossName: loss)
                run.onFinishing = { report.finishing($0, $1) }
                let outcome = try run.run(
                    session: &prepared.session, generator: g, statistics: context.statistics, targets: targets, scenes: cutList.scenes,
                    resume: resume, smoothFromNaive: true
                ) { p in
                    report.step(p)
                    return !Interrupt.requested
                }
                report.finish()
                rows.append((method.rawValue, outcome.metrics, method == .smooth ? rows.first?.2 ?? outcome.seconds : outcome.seconds))
            } catch is InversionCancelled {
                report.finish()
                FileHandle.standardError.write("interrupted during \(method.rawValue); finished methods are saved in \(out); continue with --resume\n".data(using: .utf8)!)
                throw ExitCode(130)
            }
        }
        let table = MetricsTable.render(rows)
        print(table)
        let command = "linstory compare \(video) --model \(model) --out \(out) --budget \(budget)" + (frames.map { " --frames \($0.lower):\($0.upper.map(String.init) ?? "")" } ?? "")
        try AtomicFile.write(Array((MetricsTable.markdown(rows) + "\n\nMade by: `\(command)`\n").utf8), to: out + "/compare.md")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = Dictionary(uniqueKeysWithValues: rows.map { ($0.0, CompareEntry(metrics: $0.1.clip, seconds: $0.2, budget: budget)) })
        try AtomicFile.write(try encoder.encode(json), to: out + "/compare.json")
        print("tables: \(out)/compare.md, \(out)/compare.json")
    }

    struct CompareEntry: Codable {
        var metrics: ClipMetrics.Figures
        var seconds: Double
        var budget: Int
    }
}
