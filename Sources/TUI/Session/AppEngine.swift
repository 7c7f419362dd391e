import Engine
import Foundation

/// The UI's link to the engine: a thin adapter that carries out the effects `AppUpdate` asks for
/// and folds the engine's snapshots into the state. It lives on the UI thread and never waits for
/// the engine: the start (statistics, detection) and inversion run on threads of their own and are
/// only ever read as snapshots. The session folder is the engine's (`SessionFolder`); what the UI
/// has read of it is in one `FrameStore`.
public final class AppEngine {
    /// Makes the job that runs `inversion` over the session's frames not saved yet plus `redo`;
    /// tests give a stand-in.
    public typealias JobMaker = (_ inversion: SessionRun, _ statistics: WStatistics, _ scenes: SceneList, _ redo: [Range<Int>]) throws -> InversionJob

    let prepared: SessionPreparation
    /// The clip's frames, read from the session's frame store when a preview, a job or an export
    /// needs them: the UI holds none of them.
    let targets: StoredTargets
    let modelPath: String
    let generator: Generator
    let budget: Int
    let settings: InversionSettings
    let lossName: String
    /// The learned loss's weight files and the latents to start from (`open --init`).
    var lossFiles = LossFiles()
    var initialLatents: String?
    public private(set) var method: InversionMethod
    private(set) var session: SessionFolder

    private let start: BackgroundStart
    private let makeJob: JobMaker
    private var startRevision = -1
    private var statistics: WStatistics?
    /// The model's W statistics once loaded (the tuner's locality radius is in w_std).
    var statisticsForTuning: WStatistics? { statistics }
    /// Whether the state's cuts are the session's (saved, or edited by the user): detection's are
    /// taken only when they are not.
    private var cutsKnown: Bool
    /// The running (or last) job.
    public private(set) var job: InversionJob?
    private var jobRevision = -1
    /// How many of the job's finished frames have been folded into the state.
    private var finishedSeen = 0
    /// A job to start as soon as the running one has stopped (cancelling takes up to one step).
    private var queued: (method: InversionMethod, redo: [Range<Int>], from: Int?)?
    let frames: FrameStore
    let renderer: PreviewRenderer
    /// Set while other processes fill the current method (a cluster's shards): the UI shows their
    /// frames as they land and starts no work of its own until asked (f, r).
    var watcher: SessionWatcher?
    var watcherRevision = -1
    private let exportStatus = ExportStatus()
    /// Each frame's generator (tuned scenes' own): the previews, the scrubber and exports render with it.
    let sceneGenerators: SceneGenerators
    /// How scenes are tuned (`t`, and every scene after inversion when `tuneAfterInversion`).
    public var tuning = SessionTuning()
    public var tuneAfterInversion = false
    /// The running (or last) tuning, the scene it tunes, and the scenes waiting for it (clean frames).
    var tuneJob: InversionJob?
    var tuneJobScene: Range<Int>?
    var tuneRevision = -1
    var tuneQueue: [Range<Int>] = []

    public init(
        prepared: SessionPreparation, modelPath: String, generator: Generator, method: InversionMethod, budget: Int,
        settings: InversionSettings, lossName: String, start: BackgroundStart, makeJob: JobMaker? = nil
    ) {
        self.prepared = prepared
        targets = StoredTargets(store: prepared.store, channels: generator.config.imgChannels)
        self.modelPath = modelPath
        self.generator = generator
        self.session = prepared.session
        self.method = method
        self.budget = budget
        self.settings = settings
        self.lossName = lossName
        self.start = start
        cutsKnown = prepared.cuts != nil
        let folder = prepared.session.folder, stored = StoredTargets(store: prepared.store, channels: generator.config.imgChannels)
        self.makeJob = makeJob ?? { inversion, statistics, scenes, redo in
            try InversionJob.session(
                inversion, folder: folder, generator: generator, statistics: statistics, targets: stored, scenes: scenes, redo: redo)
        }
        frames = FrameStore(session: prepared.session, method: method, noiseNames: generator.synthesis.noiseLayerNames)
        sceneGenerators = SceneGenerators(base: generator, session: prepared.session, method: method)
        renderer = PreviewRenderer(generators: sceneGenerators)
    }

    var frameCount: Int { targets.count }
    var fps: Double { prepared.fps }

    /// The state the UI opens with: what is known before any background work.
    public func initialState(size: Size) -> AppState {
        var s = AppState(size: size)
        s.videoName = (prepared.session.manifest.video.path as NSString).lastPathComponent
        s.modelName = ((modelPath as NSString).lastPathComponent as NSString).deletingPathExtension
        s.method = method
        s.space = settings.space
        s.frameCount = frameCount
        s.fps = fps
        s.cuts = prepared.cuts?.cuts ?? []
        s.engine = EngineStatus(text: "loading the model's W statistics")
        loadFrameLosses(into: &s)
        s.tunedScenes = sceneGenerators.tunedRanges
        loadKnots(into: &s)
        show(frame: 0, in: &s)
        return s
    }

    /// Starts the background work (statistics, detection); inversion follows when both are in.
    public func begin() {
        start.start()
        watchIfFilledElsewhere()
    }

    // MARK: Snapshots in

    public func receive(_ state: inout AppState) {
        // The UI loop calls this every pass: copy a snapshot only when its revision moved.
        if start.revision != startRevision {
            let s = start.snapshot
            startRevision = s.revision
            if s.curve.count > state.differenceCurve.count {
                state.differenceCurve.append(contentsOf: s.curve[state.differenceCurve.count...])
            } else if s.curve.count < state.differenceCurve.count {
                state.differenceCurve = FrameValues(s.curve)
            }
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
                if watcher == nil { startJob(method: method, redo: [], state: &state) }
            }
        }
        if let watcher { foldWatched(watcher, into: &state) }
        if let job {
            if job.revision != jobRevision {
                let snap = job.snapshot
                jobRevision = snap.revision
                fold(snap, into: &state)
            }
            if job.isDone, let next = queued {
                queued = nil
                startJob(method: next.method, redo: next.redo, from: next.from, state: &state)
            }
        }
        if let tuneJob, tuneJob.revision != tuneRevision { foldTuning(tuneJob.snapshot, into: &state) }
        collectRenders(into: &state)
        if let note = exportStatus.take() { state.message = note }
    }

    private func fold(_ snap: InversionJob.Snapshot, into state: inout AppState) {
        if state.frameLoss.count < frameCount { state.frameLoss += Array(repeating: .nan, count: frameCount - state.frameLoss.count) }
        let landed = job?.finishedFrames(from: finishedSeen) ?? []
        finishedSeen += landed.count
        for (frame, loss) in landed where frame < frameCount && state.frameLoss[frame] != Double(loss) {
            state.frameLoss[frame] = Double(loss)
            frames.frameChanged(frame)
            if frame == state.cursor { show(frame: frame, in: &state) }
        }
        if method == .scene, !landed.isEmpty { addKnots(of: landed.map(\.frame), into: &state) }
        state.lossHistory = snap.stepLosses.map(Double.init)
        if let curve = snap.curve {
            state.lossHistoryLabel = method == .scene
                ? "scene \(state.sceneIndex(containing: curve.lowerBound) + 1) (frames \(curve.lowerBound)-\(curve.upperBound))"
                : "frame \(curve.lowerBound)"
        }
        if let preview = snap.preview, let f = snap.previewFrame, f == state.cursor, let target = targetImage(f) {
            let recon = RGBImage(generated: preview)
            state.previews = PreviewImages(frame: f, target: target, reconstruction: recon, difference: AppState.absoluteDifference(target, recon))
        }
        state.engine.iterationsPerSecond = snap.iterationsPerSecond
        state.engine.eta = snap.eta
        state.engine.paused = snap.phase == .paused
        switch snap.phase {
        case .running, .paused:
            if let f = snap.frames.first {
                state.engine.text = method == .scene || method == .sequential
                    ? "inverting scene \(state.sceneIndex(containing: f) + 1) of \(state.scenes.count) (\(method.rawValue))"
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
            // Completing can replace every frame (smooth's filtered latents): read them again.
            frames.reset(method: method, session: session)
            loadFrameLosses(into: &state)
            reloadTunedScenes(&state)
            loadKnots(into: &state)
            show(frame: state.cursor, in: &state)
            if tuneAfterInversion {
                // open --tune: every scene not tuned yet, in order.
                let tuned = Set(sceneGenerators.tunedRanges.map { [$0.lowerBound, $0.upperBound] })
                for scene in cleanScenes(state) where !tuned.contains([scene.lowerBound, scene.upperBound]) { queueTuning(scene, state: &state) }
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

    public func perform(_ effect: AppEffect, _ state: inout AppState) {
        switch effect {
        case .quit:
            saveCuts(state)
            stopWatching()
            tuneQueue = []
            for j in [job, tuneJob].compactMap({ $0 }) {
                // A scene's tuning is saved whole or not at all: a quit mid-scene loses that scene's steps.
                j.cancel()
                j.wait()
            }
            renderer.stop()
        case .save:
            saveCuts(state)
            state.message = "saved: cuts in \(session.cutsPath); every inverted frame is saved as it finishes"
        case .export:
            export(state)
        case .rerun(let scenes):
            saveCuts(state)
            stopWatching()
            guard statistics != nil, cutsKnown else {
                state.message = "the engine is still starting; r again in a moment"
                return
            }
            for r in scenes {
                for f in r where f < state.frameLoss.count {
                    state.frameLoss[f] = .nan
                    frames.frameChanged(f)
                }
            }
            restart(method: method, redo: scenes, state: &state)
        case .invertFrom(let frame):
            saveCuts(state)
            stopWatching()
            guard statistics != nil, cutsKnown else {
                state.message = "the engine is still starting; f again in a moment"
                return
            }
            restart(method: method, redo: [], from: frame, state: &state)
        case .tune(let scene):
            let clean = cleanScenes(state).first { $0.overlaps(scene) } ?? scene
            queueTuning(clean, state: &state)
        case .chooseMethod:
            let all = InversionMethod.allCases
            switchMethod(to: all[(all.firstIndex(of: method)! + 1) % all.count], state: &state)
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
        // Tuned scenes belong to a method: the running tuning finishes its scene for the old one.
        tuneQueue = []
        tuneJob?.cancel()
        method = next
        state.method = next
        state.lossHistory = []
        state.lossHistoryLabel = ""
        reloadSession()
        frames.reset(method: next, session: session)
        loadFrameLosses(into: &state)
        reloadTunedScenes(&state)
        loadKnots(into: &state)
        show(frame: state.cursor, in: &state)
        state.message = "method: \(next.rawValue) (m for the next: \(InversionMethod.allCases.map(\.rawValue).joined(separator: ", ")))"
        watchIfFilledElsewhere()
        if watcher != nil {
            // Workers fill this method: watch them; a job of ours for the previous method stops.
            job?.cancel()
            queued = nil
        } else if statistics != nil, cutsKnown {
            restart(method: next, redo: [], state: &state)
        }
    }

    /// Stops the running job (if any) and starts another as soon as it has stopped.
    /// `from`: a frame whose scene goes first (the cursor's, when the user asks).
    private func restart(method: InversionMethod, redo: [Range<Int>], from: Int? = nil, state: inout AppState) {
        if let job, !job.isDone {
            var redoAll = redo
            var start = from
            if let q = queued, q.method == method {
                redoAll += q.redo
                start = start ?? q.from
            }
            queued = (method, redoAll, start)
            job.cancel()
            state.engine.text = "switching"
        } else {
            startJob(method: method, redo: redo, from: from, state: &state)
        }
    }

    private func startJob(method: InversionMethod, redo: [Range<Int>], from: Int? = nil, state: inout AppState) {
        guard let statistics else { return }
        do {
            var inversion = SessionRun(method: method, budget: budget, settings: settings, lossName: lossName)
            // The UI shows held-out PSNR nowhere and the measurement costs a fit per scene.
            inversion.measureHeldOut = false
            inversion.startFrame = from
            inversion.lossFiles = lossFiles
            inversion.initialLatents = initialLatents
            let job = try makeJob(inversion, statistics, SceneList(cuts: state.cuts, frames: frameCount), redo)
            self.job = job
            jobRevision = -1
            finishedSeen = 0
            job.start()
            state.engine.error = nil
            state.engine.text = "inverting (\(method.rawValue))"
        } catch {
            state.engine.error = EngineStatus.EngineError(message: (error as? LinstoryError)?.description ?? "\(error)")
        }
    }

    func reloadSession() {
        if let s = try? SessionFolder.read(folder: session.folder) { session = s }
    }

    /// The scene method's knots from the session (none for the other methods): piece starts that
    /// are not a scene's first frame.
    func loadKnots(into state: inout AppState) {
        state.knots = method == .scene ? Self.knots(session.pieceStarts(method: method, count: frameCount), cuts: state.cuts, frames: frameCount) : []
    }

    /// Adds the knots the newly saved `frames` lie on (a scene's frames land together, with its knots).
    func addKnots(of frames: [Int], into state: inout AppState) {
        // The landed frames' scenes are redone whole: their knots are read again from all their frames.
        var redone: [Range<Int>] = []
        for f in frames where !redone.contains(where: { $0.contains(f) }) { redone.append(state.scene(containing: f)) }
        let within = redone.flatMap { Array($0) }.filter { $0 < frameCount }
        let found = Self.knots(session.pieceStarts(method: method, count: frameCount, within: within), cuts: state.cuts, frames: frameCount)
        state.knots = Array(Set(state.knots.filter { k in !redone.contains { $0.contains(k) } } + found)).sorted()
    }

    public static func knots(_ starts: [Int], cuts: [SceneCut], frames: Int) -> [Int] {
        let scenes = SceneList(cuts: cuts, frames: frames).scenes
        let sceneStarts = Set(scenes.flatMap { [$0.frames.lowerBound, $0.clean.lowerBound] })
        return starts.filter { !sceneStarts.contains($0) }
    }

    /// Each saved frame's final loss for the current method (NaN where none is saved).
    func loadFrameLosses(into state: inout AppState) {
        // The files, not the manifest's status: workers of a split run save frames it never records.
        let saved = Set(session.savedFrameIndices(method: method, count: frameCount))
        state.frameLoss = FrameValues(frames.finalLosses(count: frameCount) { saved.contains($0) })
    }

    // MARK: Files

    private func saveCuts(_ state: AppState) {
        guard cutsKnown else { return }
        let cuts = CutList(frames: frameCount, fps: fps, cuts: state.cuts)
        // Unchanged cuts leave the file alone (workers of a split run read it).
        if (try? CutList.read(path: session.cutsPath, fps: fps, frames: frameCount)) == cuts { return }
        try? cuts.write(to: session.cutsPath, format: .json)
    }

    /// The session's export of what is inverted so far (`SessionFolder.export`), on a thread of its
    /// own: the message comes when it is done.
    private func export(_ state: AppState) {
        saveCuts(state)
        let cuts = CutList(frames: frameCount, fps: fps, cuts: state.cuts)
        let session = self.session, generators = self.sceneGenerators, targets = self.targets, method = self.method, status = exportStatus
        status.set("exporting \(method.rawValue) into \(session.folder)/export…")
        let thread = Thread {
            do {
                status.set(try session.exportInverted(method: method, cuts: cuts, generators: generators, targets: targets).summary)
            } catch {
                status.set("export failed: \((error as? LinstoryError)?.description ?? "\(error)")")
            }
        }
        thread.name = "linstory export"
        thread.start()
    }
}
