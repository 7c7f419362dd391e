import ArgumentParser
import Engine
import Foundation

/// `linstory open` (and `linstory` alone): the terminal UI on a video, a PNG folder or an existing
/// session. Scene detection runs first, then inversion in the background; the session folder keeps
/// every finished frame and the cut edits, so reopening resumes.
struct OpenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Open the terminal UI on a video (default: the bundled clip and model).",
        discussion: """
            VIDEO is a video file, a folder of PNGs, or a session folder (one holding session.json).
            Without --session the session lives in $XDG_DATA_HOME/linstory/sessions (else
            ~/.local/share/linstory/sessions), named after the video and model, so reopening resumes it.
            Keys: ? in the UI lists them all. LINSTORY_FRAME_DUMP=DIR makes the UI write every frame it
            draws (text, and the preview images as PNG) into DIR.
            """)

    @Argument(help: "A video file, a folder of PNGs or a session folder (default: the bundled clip).")
    var video: String?
    @Option(help: "The generator checkpoint (default: the bundled model, or the session's).") var model: String?
    @Option(help: "The session folder (default: one per video and model under the data folder).") var session: String?
    @Option(help: "naive, smooth, sequential or scene.") var method: InversionMethod = .scene
    @Option(help: "Evaluations per frame (lower than invert's 200: the UI shows results sooner).") var budget: Int = OpenCommand.defaultBudget
    @Option(help: "How previews are drawn: sixel, blocks, ascii or none (default: what the terminal supports).")
    var images: ImageMode?

    /// A 20-frame scene at 50 evaluations per frame is 125 batch steps: about half a minute on 2 cores.
    static let defaultBudget = 50

    func validate() throws {
        if budget < 1 { throw ValidationError("--budget must be at least 1") }
    }

    func run() throws {
        var videoPath = video ?? SessionLocation.bundledClip
        var modelPath = model ?? SessionLocation.bundledModel
        var sessionFolder = session
        if FileManager.default.fileExists(atPath: videoPath + "/session.json") {
            // A session folder: its video and model, unless overridden.
            let existing = try SessionFolder.read(folder: videoPath)
            sessionFolder = videoPath
            videoPath = try existing.manifest.video.locate(
                override: nil, what: "video", record: existing.manifestPath, hint: "open it as linstory open VIDEO --session \(videoPath)")
            modelPath = try existing.manifest.model.locate(
                override: model, what: "model", record: existing.manifestPath, hint: "give it with --model FILE")
        }
        guard FileManager.default.fileExists(atPath: videoPath) else { throw LinstoryError(.notFound, file: videoPath, "no such video or folder") }
        let checkpoint = try GeneratorCheckpoint.load(path: modelPath)
        let g = checkpoint.generator
        let folder = try sessionFolder ?? SessionLocation.defaultSession(video: FileIdentity(path: videoPath), model: FileIdentity(path: modelPath))
        // Detection runs in the background, where the timeline shows it; cuts already saved are used at once.
        let prepared = try SessionPreparation.prepare(
            video: videoPath, model: modelPath, folder: folder, resolution: g.config.imgResolution,
            detection: .deferred)

        var settings = InversionSettings()
        settings.previewInterval = 10
        let start = BackgroundStart.statisticsAndDetection(
            video: videoPath, mapping: g.mapping, statisticsCache: WStatistics.cachePath(folder: ModelContext.cacheFolder, mapping: g.mapping))
        let engine = AppEngine(
            prepared: prepared, targets: try prepared.targets(channels: g.config.imgChannels), modelPath: modelPath, generator: g, method: method, budget: budget, settings: settings, lossName: "default",
            start: start)

        let terminal = try Terminal.start(options: .init(imagesOverride: images))
        let runner = AppRunner(terminal: terminal, state: engine.initialState(size: terminal.size))
        let environment = ProcessInfo.processInfo.environment
        runner.frameDump = FrameDump.fromEnvironment(environment)
        if let path = environment["LINSTORY_KEY_LATENCY"], !path.isEmpty {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            runner.latencyLog = FileHandle(forWritingAtPath: path)
        }
        runner.perform = { effect, state in engine.perform(effect, &state) }
        runner.receive = { state in engine.receive(&state) }
        engine.begin()
        runner.run()
        terminal.stop()
        print("session: \(folder)")
    }
}
