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

    public init(method: InversionMethod, budget: Int, settings: InversionSettings, lossName: String) {
        self.method = method
        self.budget = budget
        self.settings = settings
        self.lossName = lossName
    }

    public struct Outcome: Sendable {
        public var frames: [FrameInversion]
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
    /// `onFrame` hears of each frame as it is saved (clip numbering).
    public func run(
        session: inout SessionFolder, generator: Generator, statistics: WStatistics, targets: any TargetFrames, scenes: SceneList,
        resume: Bool, redo: [Range<Int>] = [], naiveFrames: [FrameInversion]? = nil, observer: InversionObserver? = nil,
        onFrame: ((Int, FrameInversion) -> Void)? = nil
    ) throws -> Outcome {
        let loss = try ImageLosses.named(lossName)
        let key = method.rawValue
        let noiseNames = generator.synthesis.noiseLayerNames
        let first = session.manifest.first
        let count = targets.count
        let local = Self.localScenes(scenes, first: first, count: count)
        var frames = [FrameInversion?](repeating: nil, count: count)
        var record = SessionFolder.MethodRecord(for: self, count: count)
        if resume, let r = session.manifest[method], r.matches(self, count: count) {
            record.seconds = r.seconds
            record.notes = r.notes
            for i in 0..<count where r.isDone(i) {
                frames[i] = session.readFrame(index: i, method: method, noiseNames: noiseNames)
                if let f = frames[i] {
                    record.setDone([i], true)
                    record.evaluations += f.evaluations
                }
            }
        } else {
            session.removeFrames(method: method)
        }
        for range in redo {
            for i in range.clamped(to: 0..<count) where frames[i] != nil {
                record.evaluations -= frames[i]!.evaluations
                frames[i] = nil
                record.setDone([i], false)
            }
        }
        session.manifest[method] = record
        try session.save()

        var lastSave = Date()
        let save: (inout SessionFolder, [Int], [FrameInversion]) throws -> Void = { session, indices, done in
            for (i, f) in zip(indices, done) {
                try session.writeFrame(f, index: i, method: method, noiseNames: noiseNames)
                frames[i] = f
            }
            var r = session.manifest[method]!
            r.setDone(indices, true)
            r.evaluations += done.reduce(0) { $0 + $1.evaluations }
            r.seconds += Date().timeIntervalSince(lastSave)
            lastSave = Date()
            session.manifest[method] = r
            try session.save()
            for (i, f) in zip(indices, done) { onFrame?(first + i, f) }
        }
        let pending = { (range: Range<Int>) in range.filter { frames[$0] == nil } }
        var notes: [String] = []

        switch method {
        case .naive, .smooth:
            let todo = pending(0..<count)
            if method == .smooth, let naive = naiveFrames, naive.count == count, !todo.isEmpty {
                // smooth is naive's latents filtered: at equal compute, reuse a naive run of the same budget.
                try save(&session, todo, todo.map { naive[$0] })
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
                _ = try NaiveProjector(settings: settings, steps: budget).run(
                    generator: generator, statistics: statistics, loss: loss, frames: todo.count, targets: gathered, frameIndices: todo.map { $0 + first },
                    observer: observer, sink: { k, done in try save(&s, k.map { todo[$0] }, done) })
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
            for scene in local {
                // A frame depends on the one before: from the scene's first unsaved frame on, all are redone.
                guard let p = pending(scene.frames).first else { continue }
                let range = p..<scene.frames.upperBound
                let sceneStarts: Set<Int> = scene.clean.lowerBound >= p && !scene.clean.isEmpty ? [scene.clean.lowerBound - p] : []
                var s = session
                // s holds what the sink saved: hand it back even when the run is cancelled or fails.
                defer { session = s }
                _ = try seq.run(
                    generator: generator, statistics: statistics, loss: loss, targets: try targets.targets(range), sceneStarts: sceneStarts,
                    warmStart: p > 0 ? frames[p - 1] : nil, frameIndices: range.map { $0 + first }, observer: observer,
                    sink: { k, done in try save(&s, k.map { $0 + p }, done) })
            }
        case .scene:
            for scene in local where !pending(scene.frames).isEmpty {
                // A scene's line is fitted whole: one unsaved frame redoes the scene.
                var list = SceneList(cuts: [], frames: scene.frames.count)
                list.scenes[0].clean = (scene.clean.lowerBound - scene.frames.lowerBound)..<(scene.clean.upperBound - scene.frames.lowerBound)
                let lower = scene.frames.lowerBound
                var s = session
                // s holds what the sink saved: hand it back even when the run is cancelled or fails.
                defer { session = s }
                let r = try ClipInversion(method: .scene, budget: budget, settings: settings).run(
                    generator: generator, statistics: statistics, loss: loss, targets: try targets.targets(scene.frames), first: first + lower,
                    scenes: list, warmStart: lower > 0 ? frames[lower - 1] : nil, observer: observer,
                    sink: { k, done in try save(&s, k.map { $0 + lower }, done) })
                notes += r.notes
            }
        }

        var result = frames.map { $0! }
        if method == .smooth { result = LatentSmoothing.smooth(result, scenes: local.map(\.clean)) }
        record = session.manifest[method]!
        for note in notes where !record.notes.contains(note) { record.notes.append(note) }

        // Final renders, losses, metrics, reconstructions and the side-by-side video, in one pass over
        // the frames: each is rendered once and no image outlives its frame.
        let step = ReconstructionStep(generator: generator, loss: loss, batch: 1)
        let clean = local.map(\.clean)
        var accumulator = ClipMetrics.Accumulator(scenes: clean, wStd: statistics.wStd)
        let r = targets.frameShape[2]
        // The video is a by-product: a failure to write it (ffmpeg missing) does not fail the run.
        var video = targets.frameShape[0] == 3
            ? try? SideBySideVideoWriter(path: "\(session.folder)/\(key).mp4", panelWidth: r, panelHeight: r, fps: session.manifest.fps) : nil
        for i in result.indices {
            let target = try targets.targets(i..<(i + 1))
            let rendered = step.render(result[i], target: target)
            result[i].finalLoss = rendered.loss
            accumulator.add(target: target, recon: rendered.image, ws: result[i].ws)
            try session.writeReconstruction(rendered.image, index: i, method: method)
            if let v = video, (try? v.write(target: RGBImage(generated: target), reconstruction: RGBImage(generated: rendered.image))) == nil {
                video = nil
            }
        }
        try? video?.finish()
        let heldOut: [Double?] = !measureHeldOut ? clean.map { _ -> Double? in nil } : method == .scene
            ? try HeldOutTest.scene(generator: generator, statistics: statistics, loss: loss, settings: settings, budget: budget, targets: targets, scenes: clean)
            : try HeldOutTest.perFrame(generator: generator, frames: result, targets: targets, scenes: clean)
        let metrics = accumulator.finish(heldOut: heldOut)
        try session.writeLatents(result, method: method, noiseNames: noiseNames)
        try session.writeLossHistories(result, method: method)
        try session.writeMetrics(metrics, method: method)
        record.complete = true
        session.manifest[method] = record
        try session.save()
        return Outcome(frames: result, metrics: metrics, notes: record.notes, seconds: record.seconds, evaluations: record.evaluations)
    }
}
