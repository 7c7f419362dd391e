import Engine
import Foundation

/// The UI's scene tuning (`t`, and `open --tune` after inversion): one scene at a time on a thread
/// of its own (an `InversionJob` whose steps are the tuner's), the loss pane following its steps;
/// when a scene is done its frames render again with the tuned weights.
extension AppEngine {
    /// The scenes' clean frames (what is tuned), from the state's cuts.
    func cleanScenes(_ state: AppState) -> [Range<Int>] {
        SceneList(cuts: state.cuts, frames: frameCount).scenes.map(\.clean).filter { !$0.isEmpty }
    }

    /// Tunes `scene` (clean frames) once every frame of it is inverted; after the running tuning.
    func queueTuning(_ scene: Range<Int>, state: inout AppState) {
        let missing = scene.filter { $0 >= state.frameLoss.count || !state.frameLoss[$0].isFinite }
        guard missing.isEmpty else {
            state.message = "scene \(scene.lowerBound)-\(scene.upperBound - 1) is not inverted yet (\(missing.count) frames): tune it once it is"
            return
        }
        if tuneJobScene == scene || tuneQueue.contains(scene) { return }
        tuneQueue.append(scene)
        startNextTuning(&state)
    }

    private func startNextTuning(_ state: inout AppState) {
        guard tuneJob?.isDone ?? true, !tuneQueue.isEmpty, let statistics = statisticsForTuning else { return }
        let scene = tuneQueue.removeFirst()
        let session = self.session, method = self.method, generator = self.generator, targets = self.targets, tuning = self.tuning
        let job = InversionJob(expectedEvaluations: tuning.settings.steps * min(tuning.settings.batch, scene.count)) { job in
            _ = try tuning.tune(
                session: session, method: method, generator: generator, statistics: statistics, targets: targets, scenes: [scene]
            ) { scene, _, _, p in
                job.observer(InversionProgress(
                    frames: p.frames.map { $0 + scene.lowerBound }, step: p.step, steps: p.steps, losses: [p.loss], preview: nil,
                    curve: scene.lowerBound...(scene.upperBound - 1), curveLoss: p.loss))
            }
        }
        tuneJob = job
        tuneJobScene = scene
        tuneRevision = -1
        job.start()
        state.engine.text = "tuning scene \(state.sceneIndex(containing: scene.lowerBound) + 1) (\(method.rawValue))"
    }

    func foldTuning(_ snap: InversionJob.Snapshot, into state: inout AppState) {
        tuneRevision = snap.revision
        guard let scene = tuneJobScene else { return }
        let k = state.sceneIndex(containing: scene.lowerBound) + 1
        switch snap.phase {
        case .running, .paused:
            state.lossHistory = snap.stepLosses.map(Double.init)
            state.lossHistoryLabel = "tuning scene \(k) (frames \(scene.lowerBound)-\(scene.upperBound - 1))"
            state.engine.text = "tuning scene \(k): step \(snap.step)/\(snap.steps)"
        case .finished:
            reloadTunedScenes(&state)
            for f in scene { frames.frameChanged(f) }
            show(frame: state.cursor, in: &state)
            state.message = "scene \(k) tuned: its frames render with the tuned generator (tuned/\(method.rawValue)/)"
            state.engine.text = "idle: scene \(k) tuned"
            tuneJobScene = nil
            startNextTuning(&state)
        case .cancelled:
            tuneJobScene = nil
            state.engine.text = "idle: tuning stopped"
        case .failed:
            tuneJobScene = nil
            state.engine.error = EngineStatus.EngineError(message: snap.error ?? "tuning failed")
        }
    }

    /// The current method's tuned scenes, read from the session folder again.
    func reloadTunedScenes(_ state: inout AppState) {
        sceneGenerators.reload(session: session, method: method)
        state.tunedScenes = sceneGenerators.tunedRanges
    }
}
