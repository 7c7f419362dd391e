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
    }

    /// What is inverted so far, in the formats other tools read, into `export/` in the session:
    /// the cuts as JSON and PySceneDetect CSV; `METHOD.npz` with key `w` [N, num_ws, w_dim] (the frames
    /// given, like NVIDIA's projected_w.npz) and their window indices under `frames`; and
    /// `METHOD.mp4`, every target beside its reconstruction (black where a frame is not inverted).
    /// `frames` in window numbering, ascending.
    public func export(
        method: InversionMethod, frames: [(index: Int, frame: FrameInversion)], cuts: CutList, generator: Generator, targets: any TargetFrames
    ) throws -> Export {
        let folder = try ensureFolder("export")
        let key = method.rawValue
        try cuts.write(to: folder + "/cuts.json", format: .json)
        try cuts.write(to: folder + "/cuts.csv", format: .csv)
        var written = ["cuts.json", "cuts.csv"]
        if !frames.isEmpty {
            let ws = Tensor.concatenate(frames.map { $0.frame.ws.reshaped([1] + $0.frame.ws.shape) })
            let index = Tensor(shape: [frames.count], values: frames.map { Float($0.index) })
            try NpzArchive.write([("w", ws), ("frames", index)], to: "\(folder)/\(key).npz")
            written.append("\(key).npz")
            if targets.frameShape[0] == 3 {
                let workspace = SynthesisWorkspace(network: generator.synthesis, batch: 1)
                var byIndex: [Int: FrameInversion] = [:]
                for (i, f) in frames { byIndex[i] = f }
                try Self.writeSideBySide(targets: targets, fps: manifest.fps, to: "\(folder)/\(key).mp4") { i in
                    byIndex[i].map { generator.synthesis.renderImage($0, workspace: workspace) }
                }
                written.append("\(key).mp4")
            }
        }
        return Export(folder: folder, written: written, framesInverted: frames.count)
    }
}
