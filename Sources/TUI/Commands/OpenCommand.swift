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
    @Option(help: "Image loss: \(ImageLosses.grammar).") var loss: String = "default"
    @OptionGroup var lossFiles: LossFileOptions
    @Option(name: .customLong("init"), help: "Start from these latents (.npz with key w, or .npy): one for every frame, or one per frame.")
    var initLatents: String?
    @Option(help: "scene: knots a scene's path may bend at (0: one straight line per scene).") var maxKnots: Int = InversionSettings().maxKnots
    @OptionGroup var tuning: TuningOptions
    @Option(help: "How previews are drawn: sixel, blocks, ascii or none (default: what the terminal supports).")
    var images: ImageMode?

    /// A 20-frame scene at 50 evaluations per frame is 125 batch steps: about half a minute on 2 cores.
    static let defaultBudget = 50

    func validate() throws {
        if budget < 1 { throw ValidationError("--budget must be at least 1") }
        if maxKnots < 0 { throw ValidationError("--max-knots must be 0 or more") }
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
        try lossFiles.check(loss: loss, model: modelPath, initial: initLatents, generator: g)
        let folder = try sessionFolder ?? SessionLocation.defaultSession(video: FileIdentity(path: videoPath), model: FileIdentity(path: modelPath))
        var settings = InversionSettings()
        settings.previewInterval = 10
        settings.maxKnots = maxKnots
        let statisticsCache = WStatistics.cachePath(folder: ModelContext.cacheFolder, mapping: g.mapping)
        let makeEngine = { (prepared: SessionPreparation) throws -> AppEngine in
            // A session that holds its curve and cuts shows them at once: nothing is decoded again.
            let start = BackgroundStart.statisticsAndDetection(
                video: videoPath, mapping: g.mapping, statisticsCache: statisticsCache, savedCurve: prepared.curve, savedCuts: prepared.cuts?.cuts)
            let engine = AppEngine(
                prepared: prepared, modelPath: modelPath, generator: g,
                method: method, budget: budget, settings: settings, lossName: loss, start: start)
            engine.lossFiles = lossFiles.files(loss: loss, model: modelPath)
            engine.initialLatents = initLatents.map(FileIdentity.absolute)
            // t tunes the cursor's scene; --tune tunes every scene once the method has finished.
            engine.tuning = SessionTuning(settings: tuning.settings)
            engine.tuneAfterInversion = tuning.tune
            return engine
        }
        // A session whose frames are stored opens at once; otherwise the UI comes up first and the one
        // decode of the video (detection and the frame store) runs behind it (SessionOpening).
        let storeReady = (try? TargetStore(path: SessionPreparation.storePath(folder: folder, resolution: g.config.imgResolution, fit: .centerCrop))) != nil
            && FileManager.default.fileExists(atPath: folder + "/session.json")
        var engine: AppEngine?
        var opening: SessionOpening?
        if storeReady {
            engine = try makeEngine(try SessionPreparation.prepare(
                video: videoPath, model: modelPath, folder: folder, resolution: g.config.imgResolution, detection: .deferred))
        } else {
            let o = SessionOpening()
            o.start(video: videoPath, model: modelPath, folder: folder, resolution: g.config.imgResolution)
            opening = o
        }

        let terminal = try Terminal.start(options: .init(imagesOverride: images))
        let size = terminal.size
        var initial = engine?.initialState(size: size) ?? AppState(size: size)
        if engine == nil {
            initial.videoName = (videoPath as NSString).lastPathComponent
            initial.modelName = ((modelPath as NSString).lastPathComponent as NSString).deletingPathExtension
            initial.method = method
            initial.engine = EngineStatus(text: "decoding and detecting scenes")
        }
        let runner = AppRunner(terminal: terminal, state: initial)
        let environment = ProcessInfo.processInfo.environment
        runner.frameDump = FrameDump.fromEnvironment(environment)
        if let path = environment["LINSTORY_KEY_LATENCY"], !path.isEmpty {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            runner.latencyLog = FileHandle(forWritingAtPath: path)
        }
        var openingRevision = -1
        runner.perform = { effect, state in
            if let engine {
                engine.perform(effect, &state)
            } else if effect != .quit, effect != .showFrame(state.cursor) {
                state.message = "the video is still being decoded; this works once it is done"
            }
        }
        runner.receive = { state in
            if let engine {
                engine.receive(&state)
                return
            }
            guard let opening, opening.revision != openingRevision else { return }
            let snap = opening.snapshot
            openingRevision = snap.revision
            opening.show(snap, in: &state)
            guard let prepared = snap.prepared else { return }
            do {
                // Ready: the real engine takes over, with what the user did meanwhile (cursor, zoom, panes).
                let e = try makeEngine(prepared)
                var ready = e.initialState(size: state.size)
                ready.cursor = min(state.cursor, max(0, ready.frameCount - 1))
                ready.focus = state.focus
                ready.mode = state.mode
                ready.timelineSpan = state.timelineSpan
                ready.showHelp = state.showHelp
                ready.helpScroll = state.helpScroll
                state = ready
                engine = e
                e.begin()
                e.perform(.showFrame(state.cursor), &state)
            } catch {
                state.engine.error = EngineStatus.EngineError(message: (error as? LinstoryError)?.description ?? "\(error)")
            }
        }
        engine?.begin()
        runner.run()
        terminal.stop()
        print("session: \(folder)")
    }
}
