import Foundation

extension SessionFolder {
    /// The frames' targets [F, C, R, R] beside their reconstructions as an mp4, reconstruction i from
    /// `reconstruction(i)` (black where it gives none): the one writer of side-by-side videos (a
    /// finished run's `METHOD.mp4`, an export of what is inverted so far). Single-channel models
    /// have no colour video to show and write nothing.
    public static func writeSideBySide(targets: any TargetFrames, fps: Double, to path: String, reconstruction: (Int) -> RGBImage?) throws {
        let r = targets.frameShape[2]
        guard targets.frameShape[0] == 3 else { return }
        let writer = try SideBySideVideoWriter(path: path, panelWidth: r, panelHeight: r, fps: fps)
        let black = RGBImage(width: r, height: r, pixels: Array(repeating: 0, count: r * r * 3))
        for i in 0..<targets.count {
            try writer.write(target: RGBImage(generated: try targets.targets(i..<(i + 1))), reconstruction: reconstruction(i) ?? black)
        }
        try writer.finish()
    }

    /// What `export` wrote.
    public struct Export: Sendable {
        public var folder: String
        /// File names, in the order written.
        public var written: [String]
        public var framesInverted: Int
        /// The window's frames.
        public var frames: Int

        /// One line for the user: what was written where, and how much is inverted.
        public var summary: String {
            let partial = framesInverted < frames ? " (\(framesInverted) of \(frames) frames inverted)" : ""
            return "exported \(written.joined(separator: ", ")) into \(folder)\(partial)"
        }
    }

    /// What `method` has inverted so far, exported (the UI's `e`, `linstory export`): the frames whose
    /// results are saved, from the files rather than the manifest (a running job saves frames a
    /// manifest read earlier has not seen), read a frame at a time.
    public func exportInverted(method: InversionMethod, cuts: CutList, generators: SceneGenerators, targets: any TargetFrames) throws -> Export {
        let noiseNames = generators.base.synthesis.noiseLayerNames
        let result = result(method: method, noiseNames: noiseNames)
        let whole = resultsApartFromFrames(method: method, noiseNames: noiseNames) != nil
        let indices = (0..<targets.count).filter { whole || frameHeader(index: $0, method: method) != nil }
        return try export(
            method: method, indices: indices,
            frame: { i in
                guard let f = result(i) else {
                    throw LinstoryError(.corrupt, file: folder, "frame \(i + manifest.first) of '\(method.rawValue)' cannot be read back")
                }
                return f
            }, cuts: cuts, generators: generators, targets: targets)
    }

    /// What is inverted so far, in the formats other tools read, into `export/` in the session:
    /// the cuts as JSON and PySceneDetect CSV; `METHOD.npz` with key `w` [N, num_ws, w_dim] (the frames
    /// given, like NVIDIA's projected_w.npz) and their window indices under `frames`; and
    /// `METHOD.mp4`, every target beside its reconstruction (black where a frame is not inverted),
    /// each frame rendered by its scene's generator (`generators`: tuned where the scene is); and each
    /// tuned scene as a stand-alone generator, `METHOD-tuned-A-B.safetensors`, that `--model` loads.
    /// `indices`: the inverted frames, window numbering, ascending; `frame(i)` reads one (a frame at a
    /// time, so a film's export holds one frame).
    public func export(
        method: InversionMethod, indices: [Int], frame: (Int) throws -> FrameInversion, cuts: CutList, generators: SceneGenerators, targets: any TargetFrames
    ) throws -> Export {
        let generator = generators.base
        let folder = try ensureFolder("export")
        let key = method.rawValue
        try cuts.write(to: folder + "/cuts.json", format: .json)
        try cuts.write(to: folder + "/cuts.csv", format: .csv)
        var written = ["cuts.json", "cuts.csv"]
        if let firstIndex = indices.first {
            let npz = try NpzArchive.RowWriter(path: "\(folder)/\(key).npz", key: "w", rowShape: try frame(firstIndex).ws.shape, rows: indices.count)
            for i in indices { try npz.append(try frame(i).ws) }
            try npz.commit(then: [("frames", Tensor(shape: [indices.count], values: indices.map(Float.init)))])
            written.append("\(key).npz")
            if targets.frameShape[0] == 3 {
                let workspace = SynthesisWorkspace(network: generator.synthesis, batch: 1)
                let inverted = Set(indices)
                var failure: Error?
                try Self.writeSideBySide(targets: targets, fps: manifest.fps, to: "\(folder)/\(key).mp4") { i in
                    guard inverted.contains(i), failure == nil else { return nil }
                    do {
                        return try generators.generator(forFrame: i).synthesis.renderImage(try frame(i), workspace: workspace)
                    } catch {
                        failure = error
                        return nil
                    }
                }
                if let failure { throw failure }
                written.append("\(key).mp4")
            }
        }
        for scene in tunedScenes(method: method) {
            let name = "\(key)-tuned-\(scene.frames.lowerBound)-\(scene.frames.upperBound).safetensors"
            let tuned = try TunedScene(path: scene.path).apply(to: generator)
            try tuned.write(to: "\(folder)/\(name)", metadata: ["tuned_scene": "\(scene.frames.lowerBound)-\(scene.frames.upperBound)", "method": key])
            written.append(name)
        }
        return Export(folder: folder, written: written, framesInverted: indices.count, frames: targets.count)
    }

    /// The assembled latents where they, not the frame files, are the method's results: a complete
    /// smooth run (its frame files hold naive's latents, the filter runs at assembly). nil otherwise.
    public func resultsApartFromFrames(method: InversionMethod, noiseNames: [String]) -> SessionLatents? {
        method == .smooth ? finishedLatents(method: method, noiseNames: noiseNames) : nil
    }

    /// The method's result for window frame i as the UI and an export show it, read from the files
    /// (`resultsApartFromFrames`, else the frame's own file).
    public func result(method: InversionMethod, noiseNames: [String]) -> (Int) -> FrameInversion? {
        if let latents = resultsApartFromFrames(method: method, noiseNames: noiseNames) {
            return { try? latents.frame($0) }
        }
        return { readFrame(index: $0, method: method, noiseNames: noiseNames) }
    }
}
