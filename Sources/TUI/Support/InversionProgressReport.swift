import Engine
import Foundation

/// What `invert` and `compare` report from the engine's steps: the progress bar's detail (scene,
/// frame, step, loss), advanced by the frames each step worked on, and a milestone (a log line of
/// its own) whenever the work moves to another scene. Then the final pass over the frames
/// (`finishing`) on a bar of its own.
final class InversionProgressReport: @unchecked Sendable {
    private(set) var progress: CommandLineProgress
    private let scenes: SceneList
    private let lock = NSLock()
    private var currentScene: Int?
    /// The bars follow one another: the steps', the final pass's, the held-out test's.
    private enum Phase: Comparable { case steps, final, heldOut }
    private var phase = Phase.steps
    /// The steps' label, which the later bars extend ("scene" -> "scene final", "scene held-out").
    private let name: String

    init(progress: CommandLineProgress, scenes: SceneList) {
        self.progress = progress
        self.scenes = scenes
        name = progress.label.trimmingCharacters(in: .whitespaces)
    }

    /// The bar for this update: `next`'s, started (ending the one before) the first time it is asked
    /// for; nil for a phase already over. Called under the lock.
    private func bar(for next: Phase, total: Int, unit: String) -> CommandLineProgress? {
        if next < phase { return nil }
        if next > phase {
            phase = next
            progress.finish()
            progress = CommandLineProgress(total: total, label: name + (next == .final ? " final" : " held-out"), unit: unit)
        }
        return progress
    }

    /// Hears the final pass (`SessionRun.onFinishing`): the steps' bar ends, and one for the frames'
    /// renders and files takes its place.
    func finishing(_ done: Int, _ total: Int) {
        // Its last word comes after the held-out test, whose bar has taken its place: dropped.
        lock.lock()
        let bar = bar(for: .final, total: total, unit: "frames")
        lock.unlock()
        bar?.update(completed: done, detail: done < total ? "renders, metrics, latents" : "the held-out test")
    }

    /// Hears the held-out test (`SessionRun.onHeldOut`): a bar of scenes takes the final pass's place.
    func heldOut(_ done: Int, _ total: Int) {
        lock.lock()
        let bar = bar(for: .heldOut, total: total, unit: "scenes")
        lock.unlock()
        bar?.update(completed: done, detail: "scene \(done) of \(total)")
    }

    /// Ends whichever bar is showing.
    func finish() {
        lock.lock()
        let bar = progress
        lock.unlock()
        bar.finish()
    }

    /// Hears one optimisation step (the caller decides whether the run goes on).
    func step(_ p: InversionProgress) {
        let frame = p.frames.first ?? 0
        let scene = scenes.scene(containing: frame)
        let k = scene?.index
        let where_ = scene.map { "scene \($0.index + 1) of \(scenes.scenes.count) (frames \($0.frames.lowerBound)-\($0.frames.upperBound - 1))" } ?? "frame \(frame)"
        lock.lock()
        let moved = k != nil && k != currentScene
        if moved { currentScene = k }
        lock.unlock()
        if moved { progress.milestone("\(where_): starting") }
        progress.advance(by: p.frames.count, detail: String(format: "%@: frame %d step %d/%d loss %.4f", where_, frame, p.step, p.steps, p.losses.first ?? 0))
    }
}
