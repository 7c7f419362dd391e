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
            --extrapolate E runs t over [-E, 1 + E]. A scene inverted with the scene method follows its
            fitted segments; noise maps are each segment's (the first frame's on a straight line).
            A path within a tuned scene (invert --tune) renders with that scene's tuned generator.
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
        let s = try SessionFolder.read(folder: session)
        let m = s.manifest
        let modelPath = try m.model.locate(override: model, what: "model", record: s.manifestPath, hint: "give it with --model FILE")
        let checkpoint = try GeneratorCheckpoint.load(path: modelPath)
        let g = checkpoint.generator
        let available = InversionMethod.allCases.filter { m[$0]?.complete == true }
        guard let chosen = method ?? (available.contains(.scene) ? .scene : available.first), m[chosen]?.complete == true else {
            let name = method?.rawValue ?? "any"
            throw LinstoryError(.notFound, file: s.manifestPath, "no finished '\(name)' inversion in this session (has: \(available.map(\.rawValue).joined(separator: ", ")))")
        }
        // Read a frame at a time: a film's latents are not loaded to render one scene.
        guard let latents = try s.latents(method: chosen, noiseNames: g.synthesis.noiseLayerNames) else {
            throw LinstoryError(.notFound, file: s.latentsPath(method: chosen), "the finished '\(chosen.rawValue)' run's latents are missing")
        }
        // Window numbering (latents.frame(i) is frame m.first + i).
        let (a, b): (Int, Int)
        if let scene {
            let cuts = try CutList.read(path: s.cutsPath, fps: m.fps)
            let local = SessionRun.localScenes(cuts.scenes, first: m.first, count: m.count)
            guard local.indices.contains(scene) else { throw ValidationError("--scene must be 0...\(local.count - 1)") }
            let clean = local[scene].clean.isEmpty ? local[scene].frames : local[scene].clean
            (a, b) = (clean.lowerBound, clean.upperBound - 1)
        } else {
            (a, b) = (fromFrame! - m.first, toFrame! - m.first)
            guard (0..<latents.count).contains(a), (0..<latents.count).contains(b) else {
                throw ValidationError("frames must lie in the session's window \(m.first)..<\(m.first + m.count)")
            }
        }
        guard (0..<latents.count).contains(a), (0..<latents.count).contains(b) else {
            throw LinstoryError(.mismatch, file: s.manifestPath, "the saved '\(chosen.rawValue)' latents hold \(latents.count) frames, not the session's \(m.count)")
        }
        // A scene follows its path (the scene method's segments); two frames, the line between them.
        let frame = { (i: Int) in try? latents.frame(i - m.first) }
        let path = scene != nil
            ? LatentPath(scene: (a + m.first)...(b + m.first), frame: frame)!
            : LatentPath(from: a + m.first, try latents.frame(a), to: b + m.first, try latents.frame(b))
        // A path within one tuned scene renders with the scene's tuned generator; any other with the model.
        let generators = SceneGenerators(base: g, session: s, method: chosen)
        let tuned = generators.tunedScene(containing: a)?.contains(b) ?? false
        let renderer = try generators.generator(between: a, and: b)
        let workspace = SynthesisWorkspace(network: g.synthesis, batch: 1)
        let r = g.config.imgResolution
        var images: [RGBImage] = []
        for i in 0..<frames {
            let t = -Double(extrapolate) + (1 + 2 * Double(extrapolate)) * Double(i) / Double(frames - 1)
            // A path runs in frame order; --from 50 --to 10 walks it backwards.
            images.append(renderer.synthesis.renderImage(path.inversion(at: a <= b ? t : 1 - t), workspace: workspace))
        }
        if out.hasSuffix(".mp4") {
            let writer = try VideoFileWriter(path: out, width: r, height: r, fps: m.fps)
            for image in images { try writer.write(image) }
            try writer.finish()
        } else {
            let writer = try PNGFolderWriter(folder: out)
            for image in images { try writer.write(image) }
        }
        let tunedNote = tuned ? ", the scene's tuned generator" : ""
        print("rendered \(frames) frames from frame \(a + m.first) to \(b + m.first) (\(chosen.rawValue)\(tunedNote), t in [\(-extrapolate), \(1 + extrapolate)]) to \(out)")
    }
}
