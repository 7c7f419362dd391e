import Foundation

/// Per-scene tuning of a method a session has inverted: each scene's generator tuned around the
/// method's latents (`SceneTuner`), kept as tuned/METHOD/A-B.safetensors, and the method's figures
/// rendered with them (metrics/METHOD+tuned.json). A scene tuned before around the same latents
/// with the same settings is not tuned again, so an interrupted tuning resumes at its scene.
public struct SessionTuning: Sendable {
    public var settings: SceneTuningSettings
    /// The tuning's image loss: `mse` beats the `default` loss in PSNR and in locality (`SceneTuningSettings`).
    public static let lossName = "mse"

    public init(settings: SceneTuningSettings = SceneTuningSettings()) {
        self.settings = settings
    }

    /// One scene's tuning.
    public struct SceneReport: Sendable {
        /// The scene's clean frames, window numbering.
        public var frames: Range<Int>
        public var seconds: Double
        /// The tuned scene's file size.
        public var bytes: Int
        /// Found tuned already (same latents, same settings): nothing was done.
        public var reused: Bool
    }

    /// Hears every tuning step: the scene (window numbering), which of the `count` scenes it is, the
    /// step. Return false to stop (`InversionCancelled` is thrown).
    public typealias Observer = @Sendable (_ scene: Range<Int>, _ index: Int, _ count: Int, _ progress: SceneTuningProgress) -> Bool

    /// Tunes each of `scenes` (clean frames, window numbering; empty ones are skipped) around the
    /// method's saved latents, writing each tuned scene as soon as it is done. Throws, naming the
    /// frames, when a scene is not inverted yet.
    public func tune(
        session: SessionFolder, method: InversionMethod, generator: Generator, statistics: WStatistics, targets: any TargetFrames,
        scenes: [Range<Int>], observer: Observer? = nil
    ) throws -> [SceneReport] {
        let result = session.result(method: method, noiseNames: generator.synthesis.noiseLayerNames)
        let loss = try ImageLosses.named(Self.lossName)
        let list = scenes.filter { !$0.isEmpty }
        var reports: [SceneReport] = []
        for (index, scene) in list.enumerated() {
            let first = session.manifest.first
            let video = (scene.lowerBound + first)...(scene.upperBound - 1 + first)
            var pivots: [FrameInversion] = []
            for i in scene {
                guard let f = result(i) else {
                    throw LinstoryError(
                        .incomplete, file: session.folder,
                        "\(method.rawValue) has not inverted frame \(i + first) of scene \(video.lowerBound)-\(video.upperBound) yet; tune after inverting it")
                }
                pivots.append(f)
            }
            let path = session.tunedScenePath(method: method, frames: video)
            let fingerprint = Self.fingerprint(pivots)
            if FileManager.default.fileExists(atPath: path), let old = try? TunedScene(path: path),
               old.notes["pivots"] == fingerprint, old.notes["settings"] == settingsKey, (try? old.check(against: generator.synthesis)) != nil {
                reports.append(SceneReport(frames: scene, seconds: 0, bytes: old.byteCount, reused: true))
                continue
            }
            let count = list.count
            let stepObserver: SceneTuningObserver? = observer.map { o in { @Sendable p in o(scene, index, count, p) } }
            let tuned = try SceneTuner(settings: settings).run(
                generator: generator, statistics: statistics, pivots: pivots, targets: try targets.targets(scene), loss: loss,
                observer: stepObserver)
            var file = tuned.scene
            file.notes["method"] = method.rawValue
            file.notes["scene"] = "\(video.lowerBound)-\(video.upperBound)"
            file.notes["pivots"] = fingerprint
            file.notes["settings"] = settingsKey
            file.notes["seconds"] = String(format: "%.1f", tuned.seconds)
            _ = try session.ensureFolder("tuned/\(method.rawValue)")
            try file.write(to: path)
            reports.append(SceneReport(frames: scene, seconds: tuned.seconds, bytes: file.byteCount, reused: false))
        }
        return reports
    }

    /// The method's figures rendered with its tuned scenes (the model where a scene is not tuned),
    /// written to metrics/METHOD+tuned.json. With `heldOut`, the interpolation test tunes each scene
    /// again on its even frames alone (`HeldOutTest`'s tuning): `run` gives the scene method's refit.
    /// `observer` hears the held-out tunings.
    public func measure(
        session: SessionFolder, method: InversionMethod, run: SessionRun, generators: SceneGenerators, statistics: WStatistics,
        targets: any TargetFrames, scenes clean: [Range<Int>], heldOut: Bool, perceptual: (any ImageLoss)? = nil, observer: Observer? = nil
    ) throws -> ClipMetrics {
        let base = generators.base
        let result = session.result(method: method, noiseNames: base.synthesis.noiseLayerNames)
        let workspace = SynthesisWorkspace(network: base.synthesis, batch: 1)  // shapes only: serves every scene's generator
        var accumulator = ClipMetrics.Accumulator(scenes: clean, wStd: statistics.wStd, perceptual: perceptual)
        for i in 0..<targets.count {
            guard let f = result(i) else {
                throw LinstoryError(.incomplete, file: session.folder, "\(method.rawValue) has not inverted frame \(i + session.manifest.first) yet")
            }
            let image = try generators.generator(forFrame: i).synthesis.render(f, workspace: workspace)
            accumulator.add(target: try targets.targets(i..<(i + 1)), recon: image, ws: f.ws)
        }
        var held: [Double?] = clean.map { _ in nil }
        if heldOut {
            let loss = try ImageLosses.named(Self.lossName)
            let settings = self.settings
            // The test tunes the scenes of 3 frames or more: the observer is told which of them.
            let tested = clean.filter { $0.count >= 3 }
            let tuning: HeldOutTest.Tuning = { scene, pivots, targets in
                let k = tested.firstIndex(of: scene) ?? 0
                let stepObserver: SceneTuningObserver? = observer.map { o in { @Sendable p in o(scene, k, tested.count, p) } }
                let tuned = try SceneTuner(settings: settings).run(
                    generator: base, statistics: statistics, pivots: pivots, targets: targets, loss: loss, observer: stepObserver)
                return try tuned.scene.apply(to: base)
            }
            held = method == .scene
                ? try HeldOutTest.scene(
                    generator: base, statistics: statistics, loss: try ImageLosses.make(run.lossName, files: run.lossFiles, resolution: base.config.imgResolution),
                    settings: try run.settingsWithInitial(generator: base, first: session.manifest.first, count: targets.count), budget: run.budget,
                    targets: targets, scenes: clean, tuning: tuning, fits: run.heldOutFits)
                : try HeldOutTest.perFrame(generator: base, frame: { i in
                    guard let f = result(i) else { throw LinstoryError(.incomplete, file: session.folder, "frame \(i) of \(method.rawValue) cannot be read") }
                    return f
                }, targets: targets, scenes: clean, tuning: tuning)
        }
        let metrics = accumulator.finish(heldOut: held)
        try session.writeMetrics(metrics, method: method, tuned: true)
        return metrics
    }

    /// What a tuned scene's file records of its settings: another tuning of the same latents with
    /// other settings is not taken for it.
    var settingsKey: String { String(describing: settings) }  // every stored setting, by name

    /// A 64-bit FNV-1a hash of the pivots' latents and noise maps (every value's bits): tells the
    /// latents a scene was tuned around from any others.
    static func fingerprint(_ pivots: [FrameInversion]) -> String {
        var h = FNV1a()
        for p in pivots {
            h.floats(p.ws)
            for n in p.noise ?? [] { h.floats(n) }
        }
        return h.hex
    }
}
