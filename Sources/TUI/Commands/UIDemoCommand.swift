import ArgumentParser
import Foundation

/// `linstory ui-demo`: the terminal UI on made-up data, without the engine. For trying the UI on a
/// terminal (sixel, colours, resizing) and for the end-to-end tests until the engine drives it.
struct UIDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui-demo",
        abstract: "The terminal UI on made-up data (no video, no model).",
        shouldDisplay: false)

    @Option(help: "How previews are drawn: sixel, blocks, ascii or none (default: what the terminal supports).")
    var images: ImageMode?

    @Flag(help: "Start with nothing loaded, to see the empty panes.")
    var empty = false

    func run() throws {
        let terminal = try Terminal.start(options: .init(imagesOverride: images))
        defer { terminal.stop() }
        var initial = empty ? AppState(size: terminal.size) : AppState.sample(size: terminal.size)
        if empty { initial.frameCount = 0 }
        let runner = AppRunner(terminal: terminal, state: initial)
        runner.frameDump = FrameDump.fromEnvironment(ProcessInfo.processInfo.environment)
        runner.perform = { effect, state in
            switch effect {
            case .renderInterpolation(let start, let end, let t):
                let a = AppState.sampleImage(frame: start), b = AppState.sampleImage(frame: end)
                state.interpolation.startImage = a
                state.interpolation.endImage = b
                state.interpolation.image = AppState.blend(a, b, t: t)
                state.interpolation.imageT = t
            case .showFrame(let f):
                let target = AppState.sampleImage(frame: f), reconstruction = AppState.sampleImage(frame: f, blur: true)
                state.previews = PreviewImages(frame: f, target: target, reconstruction: reconstruction,
                                               difference: AppState.absoluteDifference(target, reconstruction))
            case .togglePause:
                state.engine.paused.toggle()
            case .invertFrom(let frame):
                state.message = "demo: would invert from frame \(frame)'s scene"
            case .tune(let scene):
                state.message = "demo: would tune frames \(scene.lowerBound)-\(scene.upperBound - 1)"
            case .rerun(let scenes):
                state.message = "demo: would re-run \(scenes.count) scene\(scenes.count == 1 ? "" : "s")"
            case .save, .export, .chooseMethod:
                state.message = "demo: nothing to \(effect == .save ? "save" : effect == .export ? "export" : "choose")"
            case .quit:
                break
            }
        }
        runner.run()
    }
}
