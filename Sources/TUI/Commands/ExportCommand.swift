import ArgumentParser
import Engine
import Foundation

/// `linstory export SESSION`: what the UI's `e` writes, from the command line (a script, a cluster
/// job after finalize): the cuts as JSON and PySceneDetect CSV, the latents as a projected_w-style
/// .npz, the side-by-side mp4 rendered with each scene's generator, and each tuned scene as a
/// stand-alone generator that --model loads.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a session's latents, video, cuts and tuned generators into its export/ folder.",
        discussion: """
            Exports what is inverted so far (frames not inverted yet are black in the video). Each scene
            tuned with --tune or the UI's t is written as METHOD-tuned-A-B.safetensors (A-B its frames):
            a whole generator, e.g. linstory generate --model export/scene-tuned-0-23.safetensors.
            """)

    @Argument(help: "A session folder.") var session: String
    @Option(help: "The method to export (default: scene if the session has it, else the first it has).") var method: InversionMethod?
    @Option(help: "The model (default: the one the session was made with).") var model: String?

    func run() throws {
        let s = try SessionFolder.read(folder: session)
        let m = s.manifest
        let has = InversionMethod.allCases.filter { m[$0] != nil }
        guard let chosen = method ?? (has.contains(.scene) ? .scene : has.first), m[chosen] != nil else {
            throw LinstoryError(.notFound, file: s.manifestPath, "no '\(method?.rawValue ?? "any")' inversion in this session (has: \(has.map(\.rawValue).joined(separator: ", ")))")
        }
        let modelPath = try m.model.locate(override: model, what: "model", record: s.manifestPath, hint: "give it with --model FILE")
        let g = try GeneratorCheckpoint.load(path: modelPath).generator
        let targets = try CommandSession.storedTargets(s, channels: g.config.imgChannels)
        let e = try s.exportInverted(
            method: chosen, cuts: try s.cutList(), generators: SceneGenerators(base: g, session: s, method: chosen), targets: targets)
        print(e.summary)
    }
}
