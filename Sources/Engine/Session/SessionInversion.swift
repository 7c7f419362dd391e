import Foundation

/// Runs one method over a session's window scene by scene, saving after every scene so that an
/// interrupted run resumes where it stopped (losing at most the scene in flight), then writes the
/// reconstructions, metrics and side-by-side video.
public struct SessionInversion: Sendable {
    public var method: InversionMethod
    public var budget: Int
    public var settings: InversionSettings
    public var lossName: String

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

    public func run(
        session: inout InversionSession, generator: Generator, statistics: WStatistics, targets: Tensor, scenes: SceneList,
        resume: Bool, naiveFrames: [FrameInversion]? = nil, observer: InversionObserver? = nil
    ) throws -> Outcome {
        let loss = try ImageLosses.named(lossName)
        let key = method.rawValue
        let noiseNames = generator.synthesis.noiseLayerNames
        let first = session.manifest.first
        let count = targets.shape[0]
        let local = Self.localScenes(scenes, first: first, count: count)
        var record = session.manifest.methods[key]
        var frames: [FrameInversion] = []
        var notes: [String] = []
        var seconds = 0.0
        var evaluations = 0
        if resume, let r = record, r.budget == budget, r.space == settings.space.rawValue, r.loss == lossName {
            frames = Array(try session.readLatents(method: key, noiseNames: noiseNames).prefix(r.framesDone))
            notes = r.notes
            seconds = r.seconds
            evaluations = r.evaluations
        }
        record = InversionSession.MethodRecord(
            budget: budget, space: settings.space.rawValue, loss: lossName, seed: settings.seed, framesDone: frames.count,
            complete: false, seconds: seconds, evaluations: evaluations, notes: notes)
        if method == .smooth, let naive = naiveFrames, naive.count == count {
            // smooth is naive's latents filtered: at equal compute, reuse a naive run of the same budget.
            let smoothed = LatentSmoothing.smooth(naive.map(\.ws), scenes: local.map(\.clean))
            frames = zip(naive, smoothed).map { f, w in var g = f; g.ws = w; return g }
            evaluations = naive.reduce(0) { $0 + $1.evaluations }
            notes.append("smooth: the naive run's latents, filtered within scenes")
            try session.writeLatents(frames, method: key, noiseNames: noiseNames)
            record!.framesDone = frames.count
        }
        for scene in local where scene.frames.upperBound > frames.count {
            // A scene is the unit of work: sequential restarts there anyway, scene fits it whole.
            let range = max(scene.frames.lowerBound, frames.count)..<scene.frames.upperBound
            let sceneList = SceneList(cuts: [], frames: range.count)
            let cleanLocal = scene.clean.clamped(to: range)
            // Keep transitions (frames outside the clean range) out of the scene's line.
            var list = sceneList
            list.scenes[0].clean = (cleanLocal.lowerBound - range.lowerBound)..<(cleanLocal.upperBound - range.lowerBound)
            let r = try ClipInversion(method: method, budget: budget, settings: settings).run(
                generator: generator, statistics: statistics, loss: loss, targets: targets.slice(range), first: first + range.lowerBound,
                scenes: list, observer: observer)
            frames += r.frames
            notes += r.notes
            seconds += r.seconds
            evaluations += r.evaluations
            try session.writeLatents(frames, method: key, noiseNames: noiseNames)
            record!.framesDone = frames.count
            record!.seconds = seconds
            record!.evaluations = evaluations
            record!.notes = notes
            session.manifest.methods[key] = record
            try session.save()
        }
        // Final renders, losses, metrics.
        let step = ReconstructionStep(generator: generator, loss: loss, batch: 1)
        var images: [Tensor] = []
        for (i, f) in frames.enumerated() {
            let r = step.run(
                ws: f.ws.reshaped([1] + f.ws.shape), noise: f.noise?.map { $0.reshaped([1] + $0.shape) },
                targets: targets.slice(i..<(i + 1)), wantGradients: false)
            images.append(r.image)
            frames[i].finalLoss = r.losses[0]
        }
        let recon = Tensor.concatenate(images)
        let clean = local.map(\.clean)
        let heldOut: [Double?] = method == .scene
            ? try HeldOutTest.scene(generator: generator, statistics: statistics, loss: loss, settings: settings, budget: budget, targets: targets, scenes: clean)
            : HeldOutTest.perFrame(generator: generator, frames: frames, targets: targets, scenes: clean)
        let metrics = ClipMetrics.measure(targets: targets, recon: recon, ws: frames.map(\.ws), scenes: clean, wStd: statistics.wStd, heldOut: heldOut)
        _ = try session.writeReconstructions(recon, method: key)
        try session.writeLossHistories(frames, method: key)
        try session.writeMetrics(metrics, method: key)
        try? Self.writeSideBySide(targets: targets, recon: recon, fps: session.manifest.fps, to: "\(session.folder)/\(key).mp4")
        record!.complete = true
        session.manifest.methods[key] = record
        try session.save()
        return Outcome(frames: frames, metrics: metrics, notes: notes, seconds: seconds, evaluations: evaluations)
    }

    static func writeSideBySide(targets: Tensor, recon: Tensor, fps: Double, to path: String) throws {
        let r = targets.shape[2]
        guard targets.shape[1] == 3 else { return }
        let writer = try SideBySideVideoWriter(path: path, panelWidth: r, panelHeight: r, fps: fps)
        for i in 0..<targets.shape[0] {
            try writer.write(
                target: RGBImage(tensor: targets.slice(i..<(i + 1)).reshaped([3, r, r])),
                reconstruction: RGBImage(tensor: recon.slice(i..<(i + 1)).reshaped([3, r, r])))
        }
        try writer.finish()
    }
}
