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
    /// Run the interpolation test (a second fit with every other frame held out) for the metrics;
    /// the UI skips it, the commands report it.
    public var measureHeldOut = true
    /// sequential only: steps given outright (real time) instead of derived from `budget`.
    public var sequentialSchedule: SequentialProjector.Schedule?
    /// A window frame whose scene is inverted first, then the scenes after it, then those before
    /// (the UI's "from here"). A scene whose predecessor is not done yet starts without a warm start
    /// from it, so results can differ from an in-order run's in the frames before a scene's first
    /// clean frame. nil: in order.
    public var startFrame: Int?
    /// Hears the final pass over the frames (renders, metrics, files: minutes on a film), frames
    /// done of total, after each frame and once more when the held-out test is done.
    public var onFinishing: (@Sendable (_ done: Int, _ total: Int) -> Void)?

    public init(method: InversionMethod, budget: Int, settings: InversionSettings, lossName: String) {
        self.method = method
        self.budget = budget
        self.settings = settings
        self.lossName = lossName
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

    /// The frames (window numbering) sequential inverts from scratch: each scene's first clean frame.
    /// A scene of transition frames only goes on warm from the frames before it. Their count is what
    /// sequential's schedule's evaluations depend on.
    public static func sequentialStartFrames(_ scenes: SceneList, first: Int, count: Int) -> [Int] {
        localScenes(scenes, first: first, count: count).filter { !$0.clean.isEmpty }.map(\.clean.lowerBound)
    }

    /// Inverts the window's frames that are not saved yet (all of them unless `resume`), plus the
    /// frames in `redo` (window numbering; e.g. the scenes a cut edit touched), then assembles.
    /// `onFrame` hears of each frame as it is saved (clip numbering). smooth takes naive's saved
    /// frames when `smoothFromNaive` and the session holds a complete naive run of the same settings
    /// (`compare`: at equal compute, smooth is naive's latents filtered).
    ///
    /// Memory does not grow with the window: a finished frame lives in its file, and every later
    /// step (warm starts, smoothing, the final pass, the held-out test) reads the frames it needs.
    public func run(
        session: inout SessionFolder, generator: Generator, statistics: WStatistics, targets: any TargetFrames, scenes: SceneList,
        resume: Bool, redo: [Range<Int>] = [], smoothFromNaive: Bool = false, observer: InversionObserver? = nil,
        onFrame: ((Int, FrameInversion) -> Void)? = nil
    ) throws -> Outcome {
        let loss = try ImageLosses.named(lossName)
        let noiseNames = generator.synthesis.noiseLayerNames
        let first = session.manifest.first
        let count = targets.count
        let local = Self.localScenes(scenes, first: first, count: count)
        // The scenes in the order they are worked on: from startFrame's scene on, then those before.
        let firstScene = startFrame.flatMap { f in local.firstIndex { $0.frames.contains(f) } } ?? 0
        let ordered = Array(local[firstScene...] + local[..<firstScene])
        // Per window frame: whether its result is saved, and the evaluations it cost.
        var done = [Bool](repeating: false, count: count)
        var evaluations = [Int](repeating: 0, count: count)
        let savedEvaluations = { (s: SessionFolder, i: Int) -> Int? in
            s.frameHeader(index: i, method: method).map { Int($0.metadata["evaluations"] ?? "") ?? 0 }
        }
        var record = SessionFolder.MethodRecord(for: self, count: count)
        if resume, let r = session.manifest[method], r.matches(self, count: count) {
            record.seconds = r.seconds
            record.notes = r.notes
            for i in 0..<count where r.isDone(i) {
                guard let e = savedEvaluations(session, i) else { continue }
                done[i] = true
                evaluations[i] = e
            }
        } else {
            session.removeFrames(method: method)
        }
        for range in redo {
            for i in range.clamped(to: 0..<count) {
                done[i] = false
                evaluations[i] = 0
            }
        }
        record.status = String(decoding: done.map { UInt8(ascii: $0 ? "d" : ".") }, as: UTF8.self)
        record.evaluations = evaluations.reduce(0, +)
        session.manifest[method] = record
        try session.save()

        var lastSave = Date()
        let save: (inout SessionFolder, [Int], [FrameInversion]) throws -> Void = { session, indices, finished in
            for (i, f) in zip(indices, finished) {
                try session.writeFrame(f, index: i, method: method, noiseNames: noiseNames)
                done[i] = true
            }
            var r = session.manifest[method]!
            r.setDone(indices, true)
            r.evaluations += finished.reduce(0) { $0 + $1.evaluations }
            r.seconds += Date().timeIntervalSince(lastSave)
            lastSave = Date()
            session.manifest[method] = r
            try session.save()
            for (i, f) in zip(indices, finished) { onFrame?(first + i, f) }
        }
        let pending = { (range: Range<Int>) in range.filter { !done[$0] } }
        // A saved frame read back (a warm start, smooth's copy of naive): an unreadable one is an error,
        // since the run saved it moments ago.
        let saved = { (s: SessionFolder, i: Int, m: InversionMethod) throws -> FrameInversion in
            guard let f = s.readFrame(index: i, method: m, noiseNames: noiseNames) else {
                throw LinstoryError(.corrupt, file: s.framePath(method: m, index: i), "the saved frame cannot be read back; run again without --resume")
            }
            return f
        }
        var notes: [String] = []

        switch method {
        case .naive, .smooth:
            let from = ordered.first?.frames.lowerBound ?? 0
            let todo = pending(from..<count) + pending(0..<from)
            let naive = session.manifest[.naive]
            if method == .smooth, smoothFromNaive, let naive, naive.complete, naive.matches(self, count: count), naive.seed == settings.seed, !todo.isEmpty {
                // smooth is naive's latents filtered: at equal compute, reuse a naive run of the same budget,
                // a few hundred frames to a manifest save.
                for part in stride(from: 0, to: todo.count, by: 256) {
                    let indices = Array(todo[part..<min(part + 256, todo.count)])
                    try save(&session, indices, try indices.map { try saved(session, $0, .naive) })
                }
                notes.append("smooth: the naive run's latents, filtered within scenes")
            } else if !todo.isEmpty {
                // The pending frames a batch at a time, each batch's targets read when it starts.
                let gathered = { (k: Range<Int>) throws -> Tensor in
                    let frames = todo[k]
                    // Pending frames are mostly runs of neighbours: read a run at once when it is one.
                    if let a = frames.first, let b = frames.last, b - a + 1 == frames.count { return try targets.targets(a..<(b + 1)) }
                    return Tensor.concatenate(try frames.map { try targets.targets($0..<($0 + 1)) })
                }
                var s = session
                // s holds what the sink saved: hand it back even when the run is cancelled or fails.
                defer { session = s }
                try NaiveProjector(settings: settings, steps: budget).run(
                    generator: generator, statistics: statistics, loss: loss, frames: todo.count, targets: gathered, frameIndices: todo.map { $0 + first },
                    observer: observer, sink: { k, finished in try save(&s, k.map { todo[$0] }, finished) })
            }
        case .sequential:
            let starts = Self.sequentialStartFrames(scenes, first: first, count: count).count
            var seq = SequentialProjector(settings: settings, steps: 1)
            if let schedule = sequentialSchedule {
                seq.schedule = schedule
                notes.append("sequential: \(schedule.warm) steps per frame on average, \(schedule.first) at each of \(starts) scene starts")
            } else {
                seq.steps = SequentialProjector.steps(forBudget: budget, frames: count, sceneStarts: starts, firstStepFactor: seq.firstStepFactor)
                notes.append("sequential: \(seq.steps) steps per frame, \(seq.steps * seq.firstStepFactor) at each of \(starts) scene starts")
            }
            for scene in ordered {
                // A frame depends on the one before: from the scene's first unsaved frame on, all are redone.
                guard let p = pending(scene.frames).first else { continue }
                let range = p..<scene.frames.upperBound
                let sceneStarts: Set<Int> = scene.clean.lowerBound >= p && !scene.clean.isEmpty ? [scene.clean.lowerBound - p] : []
                let warmStart = p > 0 && done[p - 1] ? try saved(session, p - 1, method) : nil
                var s = session
                // s holds what the sink saved: hand it back even when the run is cancelled or fails.
                defer { session = s }
                _ = try seq.run(
                    generator: generator, statistics: statistics, loss: loss, targets: try targets.targets(range), sceneStarts: sceneStarts,
                    warmStart: warmStart, frameIndices: range.map { $0 + first }, observer: observer,
                    sink: { k, finished in try save(&s, k.map { $0 + p }, finished) })
            }
        case .scene:
            for scene in ordered where !pending(scene.frames).isEmpty {
                // A scene's line is fitted whole: one unsaved frame redoes the scene.
                var list = SceneList(cuts: [], frames: scene.frames.count)
                list.scenes[0].clean = (scene.clean.lowerBound - scene.frames.lowerBound)..<(scene.clean.upperBound - scene.frames.lowerBound)
                let lower = scene.frames.lowerBound
                let warmStart = lower > 0 && done[lower - 1] ? try saved(session, lower - 1, method) : nil
                var s = session
                // s holds what the sink saved: hand it back even when the run is cancelled or fails.
                defer { session = s }
                let r = try ClipInversion(method: .scene, budget: budget, settings: settings).run(
                    generator: generator, statistics: statistics, loss: loss, targets: try targets.targets(scene.frames), first: first + lower,
                    scenes: list, warmStart: warmStart, observer: observer,
                    sink: { k, finished in try save(&s, k.map { $0 + lower }, finished) })
                notes += r.notes
            }
        }

        record = session.manifest[method]!
        for note in notes where !record.notes.contains(note) { record.notes.append(note) }
        let metrics = try assemble(
            session: session, generator: generator, statistics: statistics, loss: loss, targets: targets, scenes: local.map(\.clean),
            frame: { try saved(session, $0, method) })
        record.complete = true
        session.manifest[method] = record
        try session.save()
        return Outcome(metrics: metrics, notes: record.notes, seconds: record.seconds, evaluations: record.evaluations)
    }

    /// Every saved frame, in one pass in window order: the final render, loss and metrics, the
    /// reconstructions, the side-by-side video, and the assembled latents and loss histories
    /// (smooth's latents filtered here, from a window of five saved frames). Then the held-out test
    /// and the metrics file. No image outlives its frame, and no frame the five around it.
    private func assemble(
        session: SessionFolder, generator: Generator, statistics: WStatistics, loss: any ImageLoss, targets: any TargetFrames,
        scenes clean: [Range<Int>], frame saved: (Int) throws -> FrameInversion
    ) throws -> ClipMetrics {
        let count = targets.count
        let noiseNames = generator.synthesis.noiseLayerNames
        guard count > 0 else {
            let metrics = ClipMetrics.Accumulator(scenes: clean, wStd: statistics.wStd).finish(heldOut: [])
            try session.writeMetrics(metrics, method: method)
            return metrics
        }
        // The scene method's segments, from the frames' headers (no tensors read).
        var segments: [ClosedRange<Int>] = []
        for i in 0..<count {
            if let text = session.frameHeader(index: i, method: method)?.metadata["segment"], let s = SessionFolder.segment(text), segments.last != s {
                segments.append(s)
            }
        }
        // The frames around the one being finished (smooth reads two either side).
        var recent: [Int: FrameInversion] = [:]
        func read(_ i: Int) throws -> FrameInversion {
            if let f = recent[i] { return f }
            let f = try saved(i)
            recent[i] = f
            return f
        }
        var sceneIndex = 0
        func final(_ i: Int) throws -> FrameInversion {
            var f = try read(i)
            guard method == .smooth else { return f }
            while sceneIndex < clean.count, clean[sceneIndex].upperBound <= i { sceneIndex += 1 }
            if sceneIndex < clean.count, clean[sceneIndex].contains(i) {
                let scene = clean[sceneIndex]
                f.ws = try LatentSmoothing.smoothed(at: i, scene: scene) { try read($0).ws }
            }
            return f
        }

        let writer = try SessionLatents.Writer(
            session: session, method: method, count: count, like: try read(0), noiseNames: noiseNames, segments: segments)
        let step = ReconstructionStep(generator: generator, loss: loss, batch: 1)
        var accumulator = ClipMetrics.Accumulator(scenes: clean, wStd: statistics.wStd)
        let r = targets.frameShape[2]
        // The video is a by-product: a failure to write it (ffmpeg missing) does not fail the run.
        var video = targets.frameShape[0] == 3
            ? try? SideBySideVideoWriter(path: "\(session.folder)/\(method.rawValue).mp4", panelWidth: r, panelHeight: r, fps: session.manifest.fps) : nil
        for i in 0..<count {
            var f = try final(i)
            for k in recent.keys where k < i - 2 { recent[k] = nil }
            let target = try targets.targets(i..<(i + 1))
            let rendered = step.render(f, target: target)
            f.finalLoss = rendered.loss
            accumulator.add(target: target, recon: rendered.image, ws: f.ws)
            try session.writeReconstruction(rendered.image, index: i, method: method)
            try writer.append(f)
            if let v = video, (try? v.write(target: RGBImage(generated: target), reconstruction: RGBImage(generated: rendered.image))) == nil {
                video = nil
            }
            onFinishing?(i + 1, count)
        }
        try? video?.finish()
        try writer.commit()
        let latents = try SessionLatents(path: session.latentsPath(method: method), noiseNames: noiseNames, first: session.manifest.first)
        let heldOut: [Double?] = !measureHeldOut ? clean.map { _ -> Double? in nil } : method == .scene
            ? try HeldOutTest.scene(generator: generator, statistics: statistics, loss: loss, settings: settings, budget: budget, targets: targets, scenes: clean)
            : try HeldOutTest.perFrame(generator: generator, frame: latents.frame, targets: targets, scenes: clean)
        let metrics = accumulator.finish(heldOut: heldOut)
        try session.writeMetrics(metrics, method: method)
        onFinishing?(count, count)
        return metrics
    }
}
