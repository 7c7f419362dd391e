import Engine
import Foundation

/// What `invert` and `compare` report from the engine's steps: the progress bar's detail (scene,
/// frame, step, loss), advanced by the frames each step worked on, and a milestone (a log line of
/// its own) whenever the work moves to another scene.
final class InversionProgressReport: @unchecked Sendable {
    let progress: CommandLineProgress
    private let scenes: [SceneList.Scene]
    private let lock = NSLock()
    private var currentScene: Int?

    init(progress: CommandLineProgress, scenes: SceneList) {
        self.progress = progress
        self.scenes = scenes.scenes
    }

    /// The scene holding `frame` (video numbering), by binary search: a film has thousands.
    func sceneIndex(of frame: Int) -> Int? {
        var lo = 0, hi = scenes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if scenes[mid].frames.upperBound <= frame { lo = mid + 1 } else { hi = mid }
        }
        return lo < scenes.count && scenes[lo].frames.contains(frame) ? lo : nil
    }

    /// The engine's observer body: true to go on.
    func step(_ p: InversionProgress) {
        let frame = p.frames.first ?? 0
        let k = sceneIndex(of: frame)
        let where_ = k.map { "scene \($0 + 1) of \(scenes.count) (frames \(scenes[$0].frames.lowerBound)-\(scenes[$0].frames.upperBound - 1))" } ?? "frame \(frame)"
        lock.lock()
        let moved = k != nil && k != currentScene
        if moved { currentScene = k }
        lock.unlock()
        if moved { progress.milestone("\(where_): starting") }
        progress.advance(by: p.frames.count, detail: String(format: "%@: frame %d step %d/%d loss %.4f", where_, frame, p.step, p.steps, p.losses.first ?? 0))
    }
}
