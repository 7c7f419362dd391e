import ArgumentParser
import Engine
import Foundation

struct InterpolateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interpolate",
        abstract: "Render a linear latent path from a session: within a scene, or between any two frames.",
        discussion: """
            --scene K runs from the scene's first to its last clean frame (for the scene method that is
            its fitted line); --from/--to take any two frames of the session, across scenes too.
            --extrapolate E runs t over [-E, 1 + E]. Noise maps are the first frame's.
            """)

    @Argument(help: "A session folder made by invert or compare.") var session: String
    @Option(help: "The session's method whose latents to use (default: scene if present).") var method: InversionMethod?
    @Option(help: "Scene index (from 0).") var scene: Int?
    @Option(name: .customLong("from"), help: "First frame (video numbering).") var fromFrame: Int?
    @Option(name: .customLong("to"), help: "Last frame (video numbering).") var toFrame: Int?
    @Option(help: "Frames to render along the path.") var frames: Int = 50
    @Option(help: "Extend t beyond [0, 1] by this much on each side.") var extrapolate: Float = 0
    @Option(help: "An .mp4 file or a folder for PNGs.") var out: String
    @Option(help: "The model (default: the one the session was made with).") var model: String?

    func validate() throws {
        if (scene == nil) == (fromFrame == nil && toFrame == nil) { throw ValidationError("give --scene K, or --from A --to B") }
        if scene == nil, fromFrame == nil || toFrame == nil { throw ValidationError("--from and --to go together") }
        if frames < 2 { throw ValidationError("--frames must be at least 2") }
        if extrapolate < 0 { throw ValidationError("--extrapolate must not be negative") }
    }

    func run() throws {
        let s = try InversionSession.read(folder: session)
        let m = s.manifest
        let modelPath = try m.model.locate(override: model, what: "model", record: s.manifestPath, hint: "give it with --model FILE")
        let checkpoint = try GeneratorCheckpoint.load(path: modelPath)
        let g = checkpoint.generator
        let available = m.methods.filter(\.value.complete).keys.sorted()
        let key = method?.rawValue ?? (available.contains("scene") ? "scene" : available.first ?? "")
        guard m.methods[key]?.complete == true else {
            throw LinstoryError(file: s.manifestPath, "no finished '\(key.isEmpty ? "any" : key)' inversion in this session (has: \(available.joined(separator: ", ")))")
        }
        let latents = try s.readLatents(method: key, noiseNames: g.synthesis.noiseLayerNames)
        let (a, b): (Int, Int)
        if let scene {
            let cuts = try CutList.read(path: s.cutsPath, fps: m.fps)
            let local = SessionInversion.localScenes(cuts.scenes, first: m.first, count: m.count)
            guard local.indices.contains(scene) else { throw ValidationError("--scene must be 0...\(local.count - 1)") }
            let clean = local[scene].clean.isEmpty ? local[scene].frames : local[scene].clean
            (a, b) = (clean.lowerBound, clean.upperBound - 1)
        } else {
            (a, b) = (fromFrame! - m.first, toFrame! - m.first)
            guard (0..<latents.count).contains(a), (0..<latents.count).contains(b) else {
                throw ValidationError("frames must lie in the session's window \(m.first)..<\(m.first + m.count)")
            }
        }
        let wa = latents[a].ws, wb = latents[b].ws
        let noise = latents[a].noise.map { $0.map { $0.reshaped([1] + $0.shape) } }
        let workspace = SynthesisWorkspace(network: g.synthesis, batch: 1)
        let r = g.config.imgResolution
        var images: [RGBImage] = []
        for i in 0..<frames {
            let t = -extrapolate + (1 + 2 * extrapolate) * Float(i) / Float(frames - 1)
            let w = LatentLine(start: wa, end: wb).latent(at: t).reshaped([1] + wa.shape)
            let img = g.synthesis.forward(w, noise: noise.map { .explicit($0) } ?? .const, workspace: workspace)
            images.append(img.shape[1] == 3 ? RGBImage(tensor: img.reshaped([3, r, r])) : RGBImage(tensor: Tensor.concatenate([img, img, img].map { $0.reshaped([1, r, r]) })))
        }
        if out.hasSuffix(".mp4") {
            let writer = try VideoFileWriter(path: out, width: r, height: r, fps: m.fps)
            for image in images { try writer.write(image) }
            try writer.finish()
        } else {
            let writer = try PNGFolderWriter(folder: out)
            for image in images { try writer.write(image) }
        }
        print("rendered \(frames) frames from frame \(a + m.first) to \(b + m.first) (\(key), t in [\(-extrapolate), \(1 + extrapolate)]) to \(out)")
    }
}
