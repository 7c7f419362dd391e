import Engine
import Foundation

/// The UI's link to the engine: it carries out the effects `AppUpdate` asks for and folds the
/// engine's snapshots into the state. It lives on the UI thread and never waits for the engine:
/// detection and inversion run on threads of their own and are only ever read as snapshots.
final class AppEngine {
    let video: String
    let modelPath: String
    let generator: Generator
    let targets: Tensor  // [F, C, R, R]
    let fps: Double
    private(set) var method: InversionMethod
    let budget: Int
    let settings: InversionSettings
    let lossName: String
    private(set) var session: InversionSession

    private let start = BackgroundStart()
    private var startRevision = -1
    private var statistics: WStatistics?
    private var cutsKnown: Bool
    private var job: InversionJob?
    private var jobRevision = -1
    /// A job to start as soon as the running one has stopped (cancelling takes up to one step).
    private var queued: (method: InversionMethod, redo: [Range<Int>])?
    /// The current method's finished frames, read from the session as they are needed.
    private var frameCache: [Int: FrameInversion] = [:]
    private var reconstructionCache: [Int: RGBImage] = [:]
    private let renderer: PreviewRenderer
    /// Frames asked of the renderer and not back yet, with the request's id (a result for an
    /// older request, made before the frame was re-inverted, is dropped).
    private var rendering: [Int: Int] = [:]
    private var nextRenderID = 0
    private var exportThread: Thread?
    private let exportStatus = ExportStatus()

    /// Frames for every noise layer name, to read the session's frame files.
    private var noiseNames: [String] { generator.synthesis.noiseLayerNames }

    init(
        video: String, modelPath: String, generator: Generator, targets: Tensor, fps: Double, session: InversionSession,
        method: InversionMethod, budget: Int, settings: InversionSettings, lossName: String, savedCuts: [SceneCut]?
    ) {
        self.video = video
        self.modelPath = modelPath
        self.generator = generator
        self.targets = targets
        self.fps = fps
        self.session = session
        self.method = method
        self.budget = budget
        self.settings = settings
        self.lossName = lossName
        cutsKnown = savedCuts != nil
        renderer = PreviewRenderer(generator: generator)
    }

    var frameCount: Int { targets.shape[0] }

    /// The state the UI opens with: what is known before any background work.
    func initialState(size: Size, savedCuts: [SceneCut]?) -> AppState {
        var s = AppState(size: size)
        s.videoName = (video as NSString).lastPathComponent
        s.modelName = ((modelPath as NSString).lastPathComponent as NSString).deletingPathExtension
        s.methodName = method.rawValue
        s.frameCount = frameCount
        s.fps = fps
        s.cuts = savedCuts ?? []
        s.engine = EngineStatus(text: "loading the model's W statistics")
        loadFrameLosses(into: &s)
        show(frame: 0, in: &s)
        return s
    }

    /// Starts the background work (statistics, detection); inversion follows when both are in.
    func begin() {
        start.start(
            video: video, mapping: generator.mapping,
            statisticsCache: WStatistics.cachePath(folder: ModelContext.cacheFolder, mapping: generator.mapping))
    }

    // MARK: Snapshots in

    func receive(_ state: inout AppState) {
        // The UI loop calls this every pass: copy a snapshot only when its revision moved.
        if start.revision != startRevision {
            let s = start.snapshot
            startRevision = s.revision
            if s.curve.count != state.differenceCurve.count { state.differenceCurve = s.curve }
            if statistics == nil, let stats = s.statistics { statistics = stats }
            if let error = s.error {
                state.engine.error = EngineStatus.EngineError(message: error)
                state.engine.text = "stopped"
            } else if s.cuts == nil {
                state.engine.text = statistics == nil ? "loading the model's W statistics" : "detecting scenes \(s.framesSeen)/\(frameCount)"
            }
            if let cuts = s.cuts, !cutsKnown {
                // Detection's cuts, unless the session already holds the user's (those win).
                cutsKnown = true
                state.cuts = cuts.filter { $0.frame > 0 && $0.frame < frameCount }
                saveCuts(state)
            }
            if s.cuts != nil, statistics != nil, job == nil, queued == nil, state.engine.error == nil {
                cutsKnown = true
                startJob(method: method, redo: [], state: &state)
            }
        }
        if let job {
            if job.revision != jobRevision {
                let snap = job.snapshot
                jobRevision = snap.revision
                fold(snap, into: &state)
            }
            if job.isDone, let next = queued {
                queued = nil
                startJob(method: next.method, redo: next.redo, state: &state)
            }
        }
        collectRenders(into: &state)
        if let note = exportStatus.take() { state.message = note }
    }

    private func fold(_ snap: InversionJob.Snapshot, into state: inout AppState) {
        for (frame, loss) in snap.finished where frame < frameCount {
            if state.frameLoss.count < frameCount { state.frameLoss += Array(repeating: .nan, count: frameCount - state.frameLoss.count) }
            if state.frameLoss[frame] != Double(loss) {
                state.frameLoss[frame] = Double(loss)
                frameCache[frame] = nil
                reconstructionCache[frame] = nil
                rendering[frame] = nil
                if frame == state.cursor { show(frame: frame, in: &state) }
            }
        }
        state.lossHistory = snap.stepLosses.map(Double.init)
        if let curve = snap.curve {
            state.lossHistoryLabel = method == .scene
                ? "scene \(state.sceneIndex(containing: curve.lowerBound) + 1) (frames \(curve.lowerBound)-\(curve.upperBound))"
                : "frame \(curve.lowerBound)"
        }
        if let preview = snap.preview, let f = snap.previewFrame, f == state.cursor, let target = targetImage(f) {
            let recon = RGBImage(tensor: preview)
            state.previews = PreviewImages(frame: f, target: target, reconstruction: recon, difference: AppState.absoluteDifference(target, recon))
        }
        state.engine.iterationsPerSecond = snap.iterationsPerSecond
        state.engine.eta = snap.eta
        state.engine.paused = snap.phase == .paused
        switch snap.phase {
        case .running, .paused:
            if let f = snap.frames.first {
                let scenes = state.scenes
                let k = state.sceneIndex(containing: f)
                state.engine.text = method == .scene || method == .sequential
                    ? "inverting scene \(k + 1) of \(scenes.count) (\(method.rawValue))"
                    : "inverting frame \(f + 1) of \(frameCount) (\(method.rawValue))"
            } else {
                state.engine.text = "inverting (\(method.rawValue)): measuring"
            }
            if snap.phase == .paused { state.engine.text = "paused: " + state.engine.text }
        case .finished:
            state.engine.text = "idle: \(method.rawValue) done"
            state.engine.eta = nil
            state.engine.iterationsPerSecond = nil
            reloadSession()
            if method == .smooth {
                // Now the filtered latents exist: show those instead of the per-frame (naive) ones.
                frameCache = [:]
                reconstructionCache = [:]
                rendering = [:]
                loadFrameLosses(into: &state)
                show(frame: state.cursor, in: &state)
            }
        case .cancelled:
            state.engine.text = queued == nil ? "idle: stopped" : "switching"
            state.engine.eta = nil
        case .failed:
            state.engine.text = "stopped by an error"
            state.engine.error = EngineStatus.EngineError(message: snap.error ?? "unknown error", frame: snap.errorFrame)
        }
    }

    // MARK: Effects out

    func perform(_ effect: AppEffect, _ state: inout AppState) {
        switch effect {
        case .quit:
            saveCuts(state)
            if let job {
                job.cancel()
                job.wait()
            }
            renderer.stop()
            exportThread = nil
        case .save:
            saveCuts(state)
            state.message = "saved: cuts in \(session.cutsPath); every inverted frame is saved as it finishes"
        case .export:
            export(state)
        case .rerun(let scenes):
            saveCuts(state)
            guard statistics != nil, cutsKnown else {
                state.message = "the engine is still starting; r again in a moment"
                return
            }
            for r in scenes { for f in r where f < state.frameLoss.count { state.frameLoss[f] = .nan } }
            restart(method: method, redo: scenes, state: &state)
        case .chooseMethod:
            let all = InversionMethod.allCases
            let next = all[(all.firstIndex(of: method)! + 1) % all.count]
            switchMethod(to: next, state: &state)
        case .togglePause:
            guard let job, !job.isDone else {
                state.message = "nothing is running"
                return
            }
            if job.snapshot.phase == .paused || state.engine.paused {
                job.resume()
                state.engine.paused = false
                state.message = "engine resumed"
            } else {
                job.pause()
                state.engine.paused = true
                state.message = "engine pauses after this step"
            }
        case .renderInterpolation(let startFrame, let endFrame, let t):
            renderInterpolation(startFrame: startFrame, endFrame: endFrame, t: t, state: &state)
        case .showFrame(let f):
            show(frame: f, in: &state)
        }
    }

    private func switchMethod(to next: InversionMethod, state: inout AppState) {
        method = next
        state.methodName = next.rawValue
        frameCache = [:]
        reconstructionCache = [:]
        rendering = [:]
        state.frameLoss = []
        state.lossHistory = []
        state.lossHistoryLabel = ""
        reloadSession()
        loadFrameLosses(into: &state)
        show(frame: state.cursor, in: &state)
        state.message = "method: \(next.rawValue) (m for the next: \(InversionMethod.allCases.map(\.rawValue).joined(separator: ", ")))"
        if statistics != nil, cutsKnown { restart(method: next, redo: [], state: &state) }
    }

    /// Stops the running job (if any) and starts another as soon as it has stopped.
    private func restart(method: InversionMethod, redo: [Range<Int>], state: inout AppState) {
        if let job, !job.isDone {
            var redoAll = redo
            if let q = queued, q.method == method { redoAll += q.redo }
            queued = (method, redoAll)
            job.cancel()
            state.engine.text = "switching"
        } else {
            startJob(method: method, redo: redo, state: &state)
        }
    }

    private func startJob(method: InversionMethod, redo: [Range<Int>], state: inout AppState) {
        guard let statistics else { return }
        let scenes = SceneList(cuts: state.cuts, frames: frameCount)
        do {
            var inversion = SessionInversion(method: method, budget: budget, settings: settings, lossName: lossName)
            // The UI shows held-out PSNR nowhere and the measurement costs a fit per scene.
            inversion.measureHeldOut = false
            let job = try InversionJob.session(
                inversion, folder: session.folder, generator: generator, statistics: statistics, targets: targets, scenes: scenes,
                redo: redo)
            self.job = job
            jobRevision = -1
            job.start()
            state.engine.error = nil
            state.engine.text = "inverting (\(method.rawValue))"
        } catch {
            state.engine.error = EngineStatus.EngineError(message: (error as? LinstoryError)?.description ?? "\(error)")
        }
    }

    private func reloadSession() {
        if let s = try? InversionSession.read(folder: session.folder) { session = s }
    }

    /// Each saved frame's final loss for the current method (NaN where none is saved).
    private func loadFrameLosses(into state: inout AppState) {
        var losses = [Double](repeating: .nan, count: frameCount)
        if let record = session.manifest.methods[method.rawValue] {
            for i in 0..<frameCount where record.isDone(i) {
                if let f = frame(i) { losses[i] = Double(f.finalLoss) }
            }
        }
        state.frameLoss = losses
    }

    private func frame(_ i: Int) -> FrameInversion? {
        if let f = frameCache[i] { return f }
        if method == .smooth, session.manifest.methods[method.rawValue]?.complete == true,
           let all = try? session.readLatents(method: method.rawValue, noiseNames: noiseNames), all.count == frameCount {
            // smooth's frame files hold naive's latents; the filtered ones are assembled when it completes.
            // Their final losses are in losses/smooth.json ([{"final": [loss], "steps": [...]}]).
            let losses = (FileManager.default.contents(atPath: "\(session.folder)/losses/smooth.json"))
                .flatMap { try? JSONDecoder().decode([[String: [Float]]].self, from: $0) }
            for (k, f) in all.enumerated() {
                var g = f
                g.finalLoss = losses.flatMap { k < $0.count ? $0[k]["final"]?.first : nil } ?? .nan
                frameCache[k] = g
            }
            return frameCache[i]
        }
        guard let f = session.readFrame(index: i, method: method.rawValue, noiseNames: noiseNames) else { return nil }
        frameCache[i] = f
        return f
    }

    private func targetImage(_ i: Int) -> RGBImage? {
        guard i >= 0, i < frameCount, targets.shape[1] == 3 else { return nil }
        return RGBImage(tensor: targets.slice(i..<(i + 1)).reshaped(Array(targets.shape.dropFirst())))
    }

    /// The frame's reconstruction if rendered; otherwise asks the renderer for it (nil meanwhile).
    private func reconstruction(_ i: Int) -> RGBImage? {
        if let r = reconstructionCache[i] { return r }
        guard let f = frame(i) else { return nil }
        if rendering[i] == nil {
            nextRenderID += 1
            rendering[i] = nextRenderID
            renderer.request(.frame(index: i, id: nextRenderID, f))
        }
        return nil
    }

    private func show(frame f: Int, in state: inout AppState) {
        guard let target = targetImage(f) else { return }
        let recon = reconstruction(f)
        // Keep the in-flight preview of this frame until the saved reconstruction is rendered.
        if recon == nil, state.previews.frame == f, state.previews.reconstruction != nil, frame(f) == nil { return }
        state.previews = PreviewImages(frame: f, target: target, reconstruction: recon, difference: recon.map { AppState.absoluteDifference(target, $0) })
    }

    /// Folds the renderer's finished images into the state.
    private func collectRenders(into state: inout AppState) {
        for result in renderer.take() {
            switch result {
            case .frame(let index, let id, let image):
                guard rendering[index] == id else { continue }
                rendering[index] = nil
                reconstructionCache[index] = image
                if index == state.cursor { show(frame: index, in: &state) }
                let ends = AppUpdate.interpolationEnds(state)
                if index == ends.start { state.interpolation.startImage = image }
                if index == ends.end { state.interpolation.endImage = image }
            case .line(let startIndex, let endIndex, let t, let image):
                let ends = AppUpdate.interpolationEnds(state)
                guard ends.start == startIndex, ends.end == endIndex else { continue }
                state.interpolation.image = image
                state.interpolation.imageT = t
            }
        }
    }

    private func renderInterpolation(startFrame: Int, endFrame: Int, t: Double, state: inout AppState) {
        guard let a = frame(startFrame), let b = frame(endFrame) else {
            let missing = frame(startFrame) == nil ? startFrame : endFrame
            state.message = "frame \(missing) is not inverted yet (\(method.rawValue)): nothing to interpolate"
            state.interpolation.startImage = nil
            state.interpolation.endImage = nil
            state.interpolation.image = nil
            state.interpolation.imageT = nil
            return
        }
        state.interpolation.startImage = reconstruction(startFrame)
        state.interpolation.endImage = reconstruction(endFrame)
        renderer.request(.line(start: a, end: b, startIndex: startFrame, endIndex: endFrame, t: t))
    }

    // MARK: Files

    private func saveCuts(_ state: AppState) {
        guard cutsKnown else { return }
        try? CutList(frames: frameCount, fps: fps, cuts: state.cuts).write(to: session.cutsPath, format: .json)
    }

    /// Latents (.npz, key w, of the frames inverted so far, with their indices under `frames`),
    /// the side-by-side mp4, and the cuts as JSON and PySceneDetect CSV, into the session folder,
    /// on a thread of its own (the message comes when it is done).
    private func export(_ state: AppState) {
        saveCuts(state)
        let folder = session.folder + "/export"
        let key = method.rawValue
        let done = (0..<frameCount).compactMap { i in frame(i).map { (i, $0) } }
        let cuts = CutList(frames: frameCount, fps: fps, cuts: state.cuts)
        let generator = self.generator, targets = self.targets, fps = self.fps, status = exportStatus
        let frames = done.map(\.1)
        let indices = done.map(\.0)
        status.set("exporting \(key) into \(folder)…")
        let thread = Thread {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try cuts.write(to: folder + "/cuts.json", format: .json)
                try cuts.write(to: folder + "/cuts.csv", format: .csv)
                var written = ["cuts.json", "cuts.csv"]
                if !frames.isEmpty {
                    let ws = Tensor.concatenate(frames.map { $0.ws.reshaped([1] + $0.ws.shape) })
                    let index = Tensor(shape: [indices.count], values: indices.map(Float.init))
                    try NpzArchive.write([("w", ws), ("frames", index)], to: "\(folder)/\(key).npz")
                    written.append("\(key).npz")
                    let r = targets.shape[2]
                    if targets.shape[1] == 3 {
                        let writer = try SideBySideVideoWriter(path: "\(folder)/\(key).mp4", panelWidth: r, panelHeight: r, fps: fps)
                        let workspace = SynthesisWorkspace(network: generator.synthesis, batch: 1)
                        var byIndex: [Int: FrameInversion] = [:]
                        for (i, f) in zip(indices, frames) { byIndex[i] = f }
                        for i in 0..<targets.shape[0] {
                            let target = RGBImage(tensor: targets.slice(i..<(i + 1)).reshaped([3, r, r]))
                            var recon = RGBImage(width: r, height: r, pixels: Array(repeating: 0, count: r * r * 3))
                            if let f = byIndex[i] {
                                recon = RGBImage(tensor: generator.synthesis.render(f, workspace: workspace).reshaped([3, r, r]))
                            }
                            try writer.write(target: target, reconstruction: recon)
                        }
                        try writer.finish()
                        written.append("\(key).mp4")
                    }
                }
                let partial = frames.count < targets.shape[0] ? " (\(frames.count) of \(targets.shape[0]) frames inverted)" : ""
                status.set("exported \(written.joined(separator: ", ")) into \(folder)\(partial)")
            } catch {
                status.set("export failed: \((error as? LinstoryError)?.description ?? "\(error)")")
            }
        }
        thread.name = "linstory export"
        exportThread = thread
        thread.start()
    }
}

/// The export thread's last note for the status bar.
final class ExportStatus: @unchecked Sendable {
    private let lock = NSLock()
    private var note: String?

    func set(_ text: String) {
        lock.lock()
        note = text
        lock.unlock()
    }

    /// The note, once.
    func take() -> String? {
        lock.lock()
        defer { lock.unlock() }
        let n = note
        note = nil
        return n
    }
}
