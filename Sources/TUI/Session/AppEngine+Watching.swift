import Engine
import Foundation

/// A session other processes fill (a cluster's shards): the UI watches it, folding the frames the
/// workers save into the state as they land, and starts no work of its own until asked.
extension AppEngine {
    /// Watches the current method when a cluster's shards fill it (`SessionWatcher.shouldWatch`).
    func watchIfFilledElsewhere() {
        watcher?.stop()
        watcher = nil
        watcherRevision = -1
        guard SessionWatcher.shouldWatch(session, method: method) else { return }
        let known = Set(session.savedFrameIndices(method: method, count: frameCount))
        let w = SessionWatcher(session: session, method: method, known: known)
        w.start()
        watcher = w
    }

    /// The frames the watched workers saved since the last pass, and their shards' word.
    func foldWatched(_ watcher: SessionWatcher, into state: inout AppState) {
        let snap = watcher.snapshot
        guard snap.revision != watcherRevision else { return }
        watcherRevision = snap.revision
        if state.frameLoss.count < frameCount { state.frameLoss += Array(repeating: .nan, count: frameCount - state.frameLoss.count) }
        for (frame, loss) in watcher.take() where frame < frameCount {
            state.frameLoss[frame] = Double(loss)
            frames.frameChanged(frame)
            if frame == state.cursor { show(frame: frame, in: &state) }
        }
        let shards = snap.shards.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        state.engine.text = "watching \(method.rawValue): \(snap.saved)/\(snap.count) frames saved by workers (shards: \(shards)); f inverts here"
        if snap.finalized {
            // The workers' finalize may replace every frame's result (smooth): read them again.
            watcher.stop()
            self.watcher = nil
            reloadSession()
            frames.reset(method: method, session: session)
            loadFrameLosses(into: &state)
            show(frame: state.cursor, in: &state)
            state.engine.text = "idle: \(method.rawValue) done (finalized by the workers)"
        }
    }

    /// The user asked for work here: what the workers save still shows, through our own job's reads.
    func stopWatching() {
        watcher?.stop()
        watcher = nil
    }

}
