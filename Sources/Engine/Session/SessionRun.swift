import Foundation

/// Runs one method over a session's window, saving every frame as it finishes so that an
/// interrupted run resumes where it stopped (losing at most the frames in flight: one frame, a
/// batch of `naive` frames, or the scene `scene` was fitting), then writes the assembled latents,
/// reconstructions, metrics and side-by-side video.
public struct SessionRun: Sendable {
    public var method: InversionMethod
    public var budget: Int
    public var settings: InversionSettings
    public var lossName: String
    /// The weight files a learned loss in `lossName` reads.
    public var lossFiles = LossFiles()
    /// Latents to start from (`--init`, a .npz or .npy): read when the run starts, for its window.
    public var initialLatents: String?
    /// A perceptual distance the metrics report on every frame besides PSNR and SSIM (`compare`
    /// gives LPIPS when its weights are given), whatever loss the run optimised.
    public var perceptualMetric: (any ImageLoss)?
    /// Run the interpolation test (a second fit with every other frame held out) for the metrics;
    /// the UI skips it, the commands report it.
    public var measureHeldOut = true
    /// Keeps the scene method's held-out fits for the same test with tuning (`compare --tune`).
    public var heldOutFits: HeldOutTest.SceneFits?
    /// sequential only: steps given outright (real time) instead of derived from `budget`.
    public var sequentialSchedule: SequentialProjector.Schedule?
    /// A window frame whose scene is inverted first, then the scenes after it, then those before
    /// (the UI's "from here"). Scenes are inverted each on its own, so the order changes no result.
    /// nil: in order.
    public var startFrame: Int?
    /// Hears the final pass over the frames (renders, metrics, files: minutes on a film), frames
    /// done of total, after each frame and once more when the held-out test is done.
    public var onFinishing: (@Sendable (_ done: Int, _ total: Int) -> Void)?
    /// Hears the held-out test that ends the final pass, scenes done of total, after each scene.
    public var onHeldOut: (@Sendable (_ done: Int, _ total: Int) -> Void)?

    public init(method: InversionMethod, budget: Int, settings: InversionSettings, lossName: String) {
        self.method = method
        self.budget = budget
        self.settings = settings
        self.lossName = lossName
    }

    /// The run a session's record describes (what `finalize` finishes, `status` reports).
    public init(method: InversionMethod, record: SessionFolder.MethodRecord) throws {
        var settings = InversionSettings()
        guard let space = LatentSpace(rawValue: record.space) else {
            throw LinstoryError(.corrupt, "the session's \(method.rawValue) record names an unknown latent space '\(record.space)'")
        }
        settings.space = space
        settings.seed = record.seed
        if let b = record.batch { settings.batch = b }
        if let n = record.noise { settings.optimizeNoise = n }
        if let p = record.prior { settings.priorWeight = p }
        if let k = record.maxKnots { settings.maxKnots = k }
        self.init(method: method, budget: record.budget, settings: settings, lossName: record.loss)
        sequentialSchedule = method == .sequential ? record.schedule : nil
        lossFiles = record.lossFiles ?? LossFiles()
        initialLatents = record.initial
    }

    /// What a run gives back besides the session's files (which hold its frames: `SessionFolder.latents`).
    public struct Outcome: Sendable {
        public var metrics: ClipMetrics
        public var notes: [String]
        public var seconds: Double
        public var evaluations: Int
    }

    /// Scenes clipped to the window, in window numbering: (all frames, clean frames).
    public static func localScenes(_ scenes: SceneList, first: Int, count: Int) -> [(frames: Range<Int>, clean: Range<Int>)] {
        let window = first..<(first + count)
        return scenes.scenes.compactMap { s in
            let f = s.frames.clamped(to: window)
            guard !f.isEmpty else { return nil }
            let c = s.clean.clamped(to: window)
            return ((f.lowerBound - first)..<(f.upperBound - first), (c.lowerBound - first)..<(c.upperBound - first))
        }
    }

    /// The frames (window numbering) sequential inverts from scratch: one a scene, its first clean
    /// frame (its first frame when it has only transition frames). Their count is what sequential's
    /// schedule's evaluations depend on.
    public static func sequentialStartFrames(_ scenes: SceneList, first: Int, count: Int) -> [Int] {
        let local = localScenes(scenes, first: first, count: count)
        return ClipInversion.sequentialStarts(local.map(\.frames), clean: local.map(\.clean))
    }

    /// Generator evaluations `run` makes over a window of `count` frames, `starts` of which start a
    /// scene afresh (`sequentialStartFrames`): what a progress bar counts to. Of those, `pending`
    /// frames (`pendingStarts` starts) when a resumed run has the rest: sequential's steps come from
    /// the whole window. budget x frames, but for sequential, which gives a scene's first frame
    /// `firstStepFactor` times a warm frame's steps and every frame at least one: at budget 1 it
    /// makes 10 at each start, and a bar counting to budget x frames went past 100%.
    public func expectedEvaluations(count: Int, starts: Int, pending: Int? = nil, pendingStarts: Int? = nil) -> Int {
        let (frames, fresh) = (pending ?? count, pendingStarts ?? starts)
        guard method == .sequential else { return budget * frames }
        if let sequentialSchedule { return sequentialSchedule.evaluations(frames: frames, sceneStarts: fresh) }
        let steps = sequentialBudgetSteps(count: count, starts: starts)
        return steps.warm * (frames - fresh) + steps.first * fresh
    }

    /// sequential's steps from the budget (no schedule given) over a window of `count` frames with
    /// `starts` scene starts: per warm-started frame, and at each start.
    private func sequentialBudgetSteps(count: Int, starts: Int) -> (warm: Int, first: Int) {
        let factor = SequentialProjector(settings: settings, steps: 1).firstStepFactor
        let warm = SequentialProjector.steps(forBudget: budget, frames: count, sceneStarts: starts, firstStepFactor: factor)
        return (warm, warm * factor)
    }

    /// The pieces of work a run is made of, each saved whole before it counts as done: a batch of
    /// naive's (never crossing a scene), or a whole scene for sequential and scene (a frame there
    /// depends on the frames before it). Window numbering, in the order given. Made from the scenes
    /// alone, so every process, shard and resumed run does the same pieces, with the same bits.
    public func units(of scenes: [(frames: Range<Int>, clean: Range<Int>)]) -> [Range<Int>] {
        switch method {
        case .naive, .smooth: return NaiveProjector.batches(scenes: scenes.map(\.frames), batch: settings.batch)
        case .sequential, .scene: return scenes.map(\.frames)
        }
    }

    /// Whether frames saved under `record` can be continued by this run (same settings and window).
    func continues(_ record: SessionFolder.MethodRecord?, count: Int) -> Bool {
        record.map { $0.matches(self, count: count) } ?? false
    }

    /// Inverts the window's frames that are not saved yet (all of them unless `resume`), plus the
    /// frames in `redo` (window numbering; e.g. the scenes a cut edit touched), then assembles.
    /// `onFrame` hears of each frame as it is saved (clip numbering). smooth takes naive's saved
    /// frames when `smoothFromNaive` and the session holds a complete naive run of the same settings
    /// (`compare`: at equal compute, smooth is naive's latents filtered).
    ///
    /// Memory does not grow with the window: a finished frame lives in its file, and every later
    /// step (smoothing, the final pass, the held-out test) reads the frames it needs.
    public func run(
        session: inout SessionFolder, generator: Generator, statistics: WStatistics, targets: any TargetFrames, scenes: SceneList,
        resume: Bool, redo: [Range<Int>] = [], smoothFromNaive: Bool = false, observer: InversionObserver? = nil,
        onFrame: ((Int, FrameInversion) -> Void)? = nil
    ) throws -> Outcome {
        let first = session.manifest.first
        let count = targets.count
        let local = Self.localScenes(scenes, first: first, count: count)
        // The scenes in the order they are worked on: from startFrame's scene on, then those before.
        let firstScene = startFrame.flatMap { f in local.firstIndex { $0.frames.contains(f) } } ?? 0
        let ordered = Array(local[firstScene...] + local[..<firstScene])
        var record = SessionFolder.MethodRecord(for: self, count: count)
        // Per window frame: whether its result is saved (its file is there and readable).
        var evaluations = [Int?](repeating: nil, count: count)
        if resume, let r = session.manifest[method], continues(r, count: count) {
            record.seconds = r.seconds
            record.notes = r.notes
            evaluations = session.savedFrames(method: method, count: count)
        } else {
            session.removeFrames(method: method)
            session.removeTunedScenes(method: method)
        }
        for range in redo {
            for i in range.clamped(to: 0..<count) { evaluations[i] = nil }
            // Their pivots change: a scene tuned around the old ones no longer fits them.
            session.removeTunedScenes(method: method, overlapping: range)
        }
        let done = evaluations.map { $0 != nil }
        record.status = String(decoding: done.map { UInt8(ascii: $0 ? "d" : ".") }, as: UTF8.self)
        record.evaluations = evaluations.reduce(0) { $0 + ($1 ?? 0) }
        session.manifest[method] = record
        try session.save()

        var lastSave = Date()
        var s = session
        // s holds what was saved: hand it back even when the run is cancelled or fails.
        defer { session = s }
        let notes = try work(
            session: s, generator: generator, statistics: statistics, targets: targets, window: local, scenes: ordered, done: done,
            smoothFromNaive: smoothFromNaive, observer: observer
        ) { indices, finished in
            var r = s.manifest[method]!
            r.setDone(indices, true)
            r.evaluations += finished.reduce(0) { $0 + $1.evaluations }
            r.seconds += Date().timeIntervalSince(lastSave)
            lastSave = Date()
            s.manifest[method] = r
            try s.save()
            for (i, f) in zip(indices, finished) { onFrame?(first + i, f) }
        }
        record = s.manifest[method]!
        for note in notes where !record.notes.contains(note) { record.notes.append(note) }
        s.manifest[method] = record
        return try finish(session: &s, generator: generator, statistics: statistics, targets: targets, scenes: scenes)
    }

    /// `settings` with `initialLatents` read for a window of `count` frames from clip frame `first`.
    func settingsWithInitial(generator: Generator, first: Int, count: Int) throws -> InversionSettings {
        var s = settings
        if let path = initialLatents {
            s.initial = try InitialLatents(path: path, numWs: generator.config.numWs, wDim: generator.config.wDim, count: count, first: first)
        }
        return s
    }

    /// Does the pending work of `scenes` (window numbering, in the order given; `window` is every
    /// scene of the window, which sequential's schedule is derived from): each piece of work (`units`)
    /// with a frame not `done` is done whole. Each frame is written to its file, then `saved` hears of
    /// it (after each batch, or a scene's frames as they finish). Returns the method's notes.
    func work(
        session: SessionFolder, generator: Generator, statistics: WStatistics, targets: any TargetFrames,
        window: [(frames: Range<Int>, clean: Range<Int>)], scenes: [(frames: Range<Int>, clean: Range<Int>)], done: [Bool],
        smoothFromNaive: Bool, observer: InversionObserver?, saved: @escaping ([Int], [FrameInversion]) throws -> Void
    ) throws -> [String] {
        let loss = try ImageLosses.make(lossName, files: lossFiles, resolution: generator.config.imgResolution)
        let noiseNames = generator.synthesis.noiseLayerNames
        let first = session.manifest.first
        let count = targets.count
        let settings = try settingsWithInitial(generator: generator, first: first, count: count)
        let pending = units(of: scenes).filter { $0.contains { !done[$0] } }
        func save(_ indices: [Int], _ finished: [FrameInversion]) throws {
            for (i, f) in zip(indices, finished) { try session.writeFrame(f, index: i, method: method, noiseNames: noiseNames) }
            try saved(indices, finished)
        }
        var notes: [String] = []
        switch method {
        case .naive, .smooth:
            let naive = session.manifest[.naive]
            if method == .smooth, smoothFromNaive, let naive, naive.complete, naive.matches(self, count: count), naive.seed == settings.seed {
                // smooth is naive's latents filtered: at equal compute, reuse a naive run of the same budget
                // (the same batches, so the same frames), a few hundred frames to a save.
                let frames = pending.flatMap { Array($0) }
                for part in stride(from: 0, to: frames.count, by: 256) {
                    let indices = Array(frames[part..<min(part + 256, frames.count)])
                    try save(indices, try indices.map { try session.savedFrame(index: $0, method: .naive, noiseNames: noiseNames) })
                }
                notes.append("smooth: the naive run's latents, filtered within scenes")
            } else if !pending.isEmpty {
                try NaiveProjector(settings: settings, steps: budget).run(
                    generator: generator, statistics: statistics, loss: loss, frames: count, targets: { try targets.targets($0) },
                    frameIndices: Array(first..<(first + count)), batches: pending, observer: observer,
                    sink: { k, finished in try save(k, finished) })
            }
        case .sequential, .scene:
            var clip = ClipInversion(method: method, budget: budget, settings: settings)
            if method == .sequential {
                let starts = ClipInversion.sequentialStarts(window.map(\.frames), clean: window.map(\.clean)).count
                if let schedule = sequentialSchedule {
                    clip.sequentialSchedule = schedule
                    notes.append("sequential: \(schedule.warm) steps per frame on average, \(schedule.first) at each of \(starts) scene starts")
                } else {
                    let steps = sequentialBudgetSteps(count: count, starts: starts)
                    clip.sequentialSteps = steps.warm
                    notes.append("sequential: \(steps.warm) steps per frame, \(steps.first) at each of \(starts) scene starts")
                }
            }
            for (frames, clean) in scenes where pending.contains(frames) {
                // A scene is inverted whole, on its own: one unsaved frame redoes the scene.
                var list = SceneList(cuts: [], frames: frames.count)
                list.scenes[0].clean = (clean.lowerBound - frames.lowerBound)..<(clean.upperBound - frames.lowerBound)
                let r = try clip.run(
                    generator: generator, statistics: statistics, loss: loss, targets: try targets.targets(frames), first: first + frames.lowerBound,
                    scenes: list, observer: observer, sink: { k, finished in try save(k.map { $0 + frames.lowerBound }, finished) })
                if method == .scene { notes += r.notes }
            }
        }
        return notes
    }
}
