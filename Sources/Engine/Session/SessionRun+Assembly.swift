import Foundation

/// The end of a run: every frame of the window saved, one pass makes what needs them all (the
/// assembled latents, reconstructions, metrics, the side-by-side video) and marks the method
/// complete. A one-process run does it when its last frame is saved; a run split among workers does
/// it once they are all done (`linstory finalize`), and it refuses while frames are missing.
extension SessionRun {
    /// Builds the finished method's files from the saved frames and records it complete. Throws,
    /// naming the missing frames (and changing nothing), unless every window frame is saved.
    public func finish(
        session: inout SessionFolder, generator: Generator, statistics: WStatistics, targets: any TargetFrames, scenes: SceneList
    ) throws -> Outcome {
        let count = targets.count
        let first = session.manifest.first
        guard var record = session.manifest[method], continues(record, count: count) else {
            throw LinstoryError(.mismatch, file: session.manifestPath, "this session holds no \(method.rawValue) run with these settings to finish")
        }
        let evaluations = session.savedFrames(method: method, count: count)
        let missing = evaluations.indices.filter { evaluations[$0] == nil }
        if !missing.isEmpty {
            throw LinstoryError(
                .incomplete, file: session.folder,
                "\(method.rawValue) is missing \(missing.count) of \(count) frames (\(SessionFolder.describe(frames: missing.map { $0 + first }))); finish them first")
        }
        record.status = String(repeating: "d", count: count)
        record.evaluations = evaluations.reduce(0) { $0 + ($1 ?? 0) }
        // Workers of a split run keep their time in their status files, not the manifest.
        let shardSeconds = session.shardStatuses(method: method).values.reduce(0) { $0 + $1.seconds }
        if record.seconds == 0 { record.seconds = shardSeconds }
        session.manifest[method] = record
        let noiseNames = generator.synthesis.noiseLayerNames
        let s = session
        let metrics = try assemble(
            session: s, generator: generator, statistics: statistics, loss: try ImageLosses.make(lossName, files: lossFiles, resolution: generator.config.imgResolution), targets: targets,
            scenes: Self.localScenes(scenes, first: first, count: count).map(\.clean),
            frame: { try s.savedFrame(index: $0, method: method, noiseNames: noiseNames) })
        record.complete = true
        session.manifest[method] = record
        try session.save()
        return Outcome(metrics: metrics, notes: record.notes, seconds: record.seconds, evaluations: record.evaluations)
    }

    /// Every saved frame, in one pass in window order: the final render, loss and metrics, the
    /// reconstructions, the side-by-side video, and the assembled latents and loss histories
    /// (smooth's latents filtered here, from a window of five saved frames). Then the held-out test
    /// and the metrics file. No image outlives its frame, and no frame the five around it.
    func assemble(
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
        var accumulator = ClipMetrics.Accumulator(scenes: clean, wStd: statistics.wStd, perceptual: perceptualMetric)
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
        let report = onHeldOut, sceneCount = clean.count
        let onScene = { (done: Int) -> Void in report?(done, sceneCount) }
        let heldOut: [Double?] = !measureHeldOut ? clean.map { _ -> Double? in nil } : method == .scene
            ? try HeldOutTest.scene(
                generator: generator, statistics: statistics, loss: loss, settings: settings, budget: budget, targets: targets, scenes: clean,
                fits: heldOutFits, onScene: onScene)
            : try HeldOutTest.perFrame(generator: generator, frame: latents.frame, targets: targets, scenes: clean, onScene: onScene)
        let metrics = accumulator.finish(heldOut: heldOut)
        try session.writeMetrics(metrics, method: method)
        onFinishing?(count, count)
        return metrics
    }
}
