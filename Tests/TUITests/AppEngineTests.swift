import Engine
import Foundation
import Testing
import TestSupport
import TUI

/// `AppEngine` with a stand-in start (statistics and two scenes at once) and a stand-in job (steps
/// of a few milliseconds, each frame saved into the session as the real job saves it): what the
/// state says while a job runs, pauses, is cancelled for another method, and re-runs the scenes a
/// cut edit touched, and which jobs the engine asked for.
final class AppEngineTests {
    static let frames = 8
    let folder: TemporaryFolder
    let generator: Generator
    let statistics: WStatistics
    let prepared: SessionPreparation
    let jobs = JobLog()

    init() throws {
        folder = try TemporaryFolder("linstory-appengine")
        generator = try Fixtures.generator("tiny32")
        statistics = WStatistics.compute(mapping: generator.mapping, samples: 200, seed: 1)
        // The video: 8 PNG frames the generator drew.
        var rng = TestRandom(seed: 4)
        let images = generator.synthesize(ws: generator.mapping(rng.tensor([Self.frames, generator.config.zDim]), truncationPsi: 0.7))
        let video = folder.path + "/video"
        let writer = try PNGFolderWriter(folder: video)
        for i in 0..<Self.frames { try writer.write(RGBImage(generated: images.slice(i..<(i + 1)))) }
        prepared = try SessionPreparation.prepare(
            video: video, model: Fixtures.path("stylegan2/tiny32/weights.safetensors"), folder: folder.path + "/session",
            resolution: generator.config.imgResolution, detection: .deferred)
    }

    /// The jobs the engine asked for, in order.
    final class JobLog: @unchecked Sendable {
        private let lock = NSLock()
        private var entries: [(method: InversionMethod, redo: [Range<Int>], start: Int?, job: InversionJob)] = []
        func add(_ m: InversionMethod, _ redo: [Range<Int>], _ start: Int?, _ job: InversionJob) {
            lock.lock()
            entries.append((m, redo, start, job))
            lock.unlock()
        }
        var all: [(method: InversionMethod, redo: [Range<Int>], start: Int?, job: InversionJob)] {
            lock.lock()
            defer { lock.unlock() }
            return entries
        }
    }

    /// A job that does what `InversionJob.session` does, without the generator: the frames not
    /// saved yet plus `redo`, `steps` observer calls each, then the frame (w_avg, loss 1 / (1 + i))
    /// written into the session and its record; from the start frame's scene (the cut at 4) first
    /// when the run has one.
    func standIn(steps: Int) -> AppEngine.JobMaker {
        let folder = prepared.session.folder, wAvg = statistics.wAvg, numWs = generator.config.numWs, jobs = self.jobs
        let noiseNames = generator.synthesis.noiseLayerNames
        return { inversion, _, _, redo in
            let method = inversion.method
            let job = InversionJob(expectedEvaluations: Self.frames * steps) { job in
                var session = try SessionFolder.read(folder: folder)
                var record = session.manifest[method] ?? SessionFolder.MethodRecord(for: inversion, count: Self.frames)
                var todo = (0..<Self.frames).filter { !record.isDone($0) }
                for r in redo { todo += r.filter { !todo.contains($0) } }
                let from = inversion.startFrame.map { $0 >= 4 ? 4 : 0 } ?? 0
                for f in todo.sorted().filter({ $0 >= from }) + todo.sorted().filter({ $0 < from }) {
                    for step in 1...steps {
                        guard job.observer(InversionProgress(frames: [f], step: step, steps: steps, losses: [1], preview: nil)) else {
                            throw InversionCancelled()
                        }
                        Thread.sleep(forTimeInterval: 0.002)
                    }
                    let ws = Tensor(shape: [numWs, wAvg.count]) { p in for i in 0..<(numWs * wAvg.count) { p[i] = wAvg[flat: i % wAvg.count] } }
                    let frame = FrameInversion(ws: ws, noise: nil, lossHistory: [1], finalLoss: 1 / Float(1 + f), evaluations: steps)
                    try session.writeFrame(frame, index: f, method: method, noiseNames: noiseNames)
                    record.setDone([f], true)
                    session.manifest[method] = record
                    try session.save()
                    job.frameFinished(f, loss: frame.finalLoss)
                }
                record.complete = true
                session.manifest[method] = record
                try session.save()
            }
            jobs.add(method, redo, inversion.startFrame, job)
            return job
        }
    }

    func makeEngine(steps: Int) -> AppEngine {
        let stats = statistics
        let start = BackgroundStart { start in
            start.update {
                $0.statistics = stats
                $0.curve = Array(repeating: 0, count: Self.frames)
                $0.cuts = [SceneCut(frame: 4, fps: 25)]
            }
        }
        return AppEngine(
            prepared: prepared, modelPath: Fixtures.path("stylegan2/tiny32/weights.safetensors"), generator: generator, method: .scene,
            budget: 10, settings: InversionSettings(), lossName: "default", start: start, makeJob: standIn(steps: steps))
    }

    /// Runs the UI loop's `receive` until `condition` holds; the deadline only keeps a broken engine
    /// from hanging the suite.
    @discardableResult
    func pump(_ engine: AppEngine, _ state: inout AppState, until condition: (AppState) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            engine.receive(&state)
            if condition(state) { return true }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return false
    }

    /// What the UI loop does with an action: the update, then each effect carried out. The effects.
    @discardableResult
    func apply(_ action: AppAction, _ engine: AppEngine, _ state: inout AppState) -> [AppEffect] {
        let (next, effects) = AppUpdate.apply(action, to: state)
        state = next
        for effect in effects { engine.perform(effect, &state) }
        return effects
    }

    static func done(_ s: AppState, _ frames: Range<Int>) -> Bool {
        s.frameLoss.count == Self.frames && frames.allSatisfy { s.frameLoss[$0].isFinite }
    }

    @Test func startsWithDetectionsCutsAndShowsFramesAsTheyLand() throws {
        let engine = makeEngine(steps: 2)
        var state = engine.initialState(size: Size(width: 100, height: 30))
        #expect(state.method == .scene && state.frameLoss.allSatisfy(\.isNaN) && state.cuts.isEmpty)
        engine.begin()
        defer { engine.perform(.quit, &state) }
        #expect(pump(engine, &state) { Self.done($0, 0..<Self.frames) && $0.engine.text == "idle: scene done" }, "\(state.engine.text)")
        #expect(state.cuts.map(\.frame) == [4])
        // Detection's cuts went into the session (the next open reads them instead of detecting).
        #expect(try CutList.read(path: prepared.session.cutsPath).cuts.map(\.frame) == [4])
        let expected: [Double] = (0..<Self.frames).map { i in Double(1 / Float(1 + i)) }
        #expect(state.frameLoss == FrameValues(expected))
        #expect(jobs.all.map(\.method) == [.scene] && jobs.all[0].redo.isEmpty)
        // The cursor's frame has its reconstruction rendered from the saved latents.
        #expect(pump(engine, &state) { $0.previews.reconstruction != nil && $0.previews.frame == 0 })
    }

    @Test func pauseHoldsTheJobAndResumeGoesOn() throws {
        let engine = makeEngine(steps: 25)
        var state = engine.initialState(size: Size(width: 100, height: 30))
        engine.begin()
        defer { engine.perform(.quit, &state) }
        #expect(pump(engine, &state) { Self.done($0, 0..<1) })
        engine.perform(.togglePause, &state)
        #expect(state.engine.paused && state.message == "engine pauses after this step")
        #expect(pump(engine, &state) { _ in engine.job?.snapshot.phase == .paused })
        let finished = state.frameLoss.filter(\.isFinite).count
        Thread.sleep(forTimeInterval: 0.2)
        engine.receive(&state)
        #expect(state.frameLoss.filter(\.isFinite).count == finished, "frames finished while paused")
        #expect(state.engine.paused && state.engine.text.hasPrefix("paused: "))
        engine.perform(.togglePause, &state)
        #expect(!state.engine.paused && state.message == "engine resumed")
        #expect(pump(engine, &state) { Self.done($0, 0..<Self.frames) })
    }

    @Test func switchingMethodCancelsTheJobAndStartsTheNextMethod() throws {
        let engine = makeEngine(steps: 25)
        var state = engine.initialState(size: Size(width: 100, height: 30))
        engine.begin()
        defer { engine.perform(.quit, &state) }
        #expect(pump(engine, &state) { Self.done($0, 0..<2) })
        engine.perform(.chooseMethod, &state)
        // scene is the last method: m goes round to naive, whose frames are not inverted yet.
        #expect(state.method == .naive && engine.method == .naive)
        #expect(state.frameLoss.allSatisfy(\.isNaN) && state.lossHistory.isEmpty)
        #expect(pump(engine, &state) { _ in self.jobs.all.count == 2 })
        let first = jobs.all[0].job
        #expect(first.isDone && first.snapshot.phase == .cancelled)
        #expect(jobs.all.map(\.method) == [.scene, .naive])
        #expect(pump(engine, &state) { Self.done($0, 0..<Self.frames) && $0.engine.text == "idle: naive done" })
        // The scene frames saved before the switch are still in the session for when it comes back.
        let saved = try SessionFolder.read(folder: prepared.session.folder).manifest[.scene]?.framesDone ?? 0
        #expect(saved >= 2)
    }

    @Test func invertingFromTheCursorStartsTheJobAtItsScene() throws {
        let engine = makeEngine(steps: 25)
        var state = engine.initialState(size: Size(width: 100, height: 30))
        engine.begin()
        defer { engine.perform(.quit, &state) }
        #expect(pump(engine, &state) { Self.done($0, 0..<1) })
        // f with the cursor on frame 6 (the second scene, 4..<8): the job in flight is stopped and the
        // next one starts there.
        state.cursor = 6
        let effects = apply(.invertFromCursor, engine, &state)
        #expect(effects == [.invertFrom(frame: 6)] && state.message?.hasPrefix("inverting from scene 2 of 2") == true, "\(String(describing: state.message))")
        #expect(pump(engine, &state) { _ in self.jobs.all.count == 2 })
        #expect(jobs.all[0].job.snapshot.phase == .cancelled && jobs.all[1].start == 6 && jobs.all[1].method == .scene)
        // The cursor's scene lands before the frames before it that were still pending.
        #expect(pump(engine, &state) { Self.done($0, 4..<8) })
        #expect(state.frameLoss[3].isNaN, "frame 3 comes after the cursor's scene")
        #expect(pump(engine, &state) { Self.done($0, 0..<Self.frames) && $0.engine.text == "idle: scene done" })
    }

    @Test func reRunRedoesOnlyTheScenesACutEditTouched() throws {
        let engine = makeEngine(steps: 2)
        var state = engine.initialState(size: Size(width: 100, height: 30))
        engine.begin()
        defer { engine.perform(.quit, &state) }
        #expect(pump(engine, &state) { $0.engine.text == "idle: scene done" })
        // The user moves the cut from 4 to 5: scenes 0..<5 and 5..<8 are touched; r re-runs 4..<8 here.
        state.cuts = [SceneCut(frame: 5, fps: 25)]
        engine.perform(.rerun(scenes: [4..<8]), &state)
        #expect(state.frameLoss[0..<4].allSatisfy(\.isFinite) && state.frameLoss[4..<8].allSatisfy(\.isNaN))
        #expect(try CutList.read(path: prepared.session.cutsPath).cuts.map(\.frame) == [5], "the edit is saved before the re-run")
        #expect(pump(engine, &state) { _ in self.jobs.all.count == 2 })
        #expect(jobs.all[1].method == .scene && jobs.all[1].redo == [4..<8])
        #expect(pump(engine, &state) { Self.done($0, 0..<Self.frames) && $0.engine.text == "idle: scene done" })
    }

    /// A session a cluster fills: its shards' status files say so, and the UI watches instead of
    /// starting a job of its own, shows the workers' frames as their files land, says when the
    /// workers finalize, and starts work only when asked (f).
    @Test func aSessionWorkersFillIsWatchedNotInverted() throws {
        var session = prepared.session
        let run = SessionRun(method: .scene, budget: 10, settings: InversionSettings(), lossName: "default")
        try run.adopt(session: &session)
        let shard = try SessionShard(index: 1, count: 2)
        let now = Date()
        try session.writeShardStatus(ShardStatus(
            shard: "1/2", method: "scene", state: .running, frames: 4, framesDone: 0, firstFrame: 0, lastFrame: 3, scenes: 1, evaluations: 0,
            seconds: 0, host: "node1", pid: 1, job: "7_1", started: now, updated: now, message: nil), method: .scene, shard: shard)
        let engine = makeEngine(steps: 2)
        var state = engine.initialState(size: Size(width: 100, height: 30))
        engine.begin()
        defer { engine.perform(.quit, &state) }
        #expect(pump(engine, &state) { $0.engine.text.hasPrefix("watching scene: 0/8") }, "\(state.engine.text)")
        // A worker saves frames 0-2 (as runShard writes them).
        let ws = Tensor(shape: [generator.config.numWs, generator.config.wDim]) { p in for i in 0..<p.count { p[i] = 0.1 } }
        for f in 0..<3 {
            try session.writeFrame(
                FrameInversion(ws: ws, noise: nil, lossHistory: [1], finalLoss: 0.5 + Float(f), evaluations: 10), index: f, method: .scene,
                noiseNames: generator.synthesis.noiseLayerNames)
        }
        #expect(pump(engine, &state) { Self.done($0, 0..<3) }, "\(state.engine.text)")
        #expect(Array(state.frameLoss[0..<3]) == [0.5, 1.5, 2.5] && state.frameLoss[3].isNaN)
        #expect(state.engine.text.hasPrefix("watching scene: 3/8 frames saved by workers (shards: 1 running)"), "\(state.engine.text)")
        Thread.sleep(forTimeInterval: 0.3)
        engine.receive(&state)
        #expect(jobs.all.isEmpty, "the UI started work of its own")
        // Asked (f on frame 4), it inverts here.
        engine.perform(.invertFrom(frame: 4), &state)
        #expect(pump(engine, &state) { _ in self.jobs.all.count == 1 })
        #expect(jobs.all[0].start == 4)
    }

    /// t on the cursor's scene: refused while the scene is not inverted; once it is, the scene is
    /// tuned on a thread of its own (the loss pane follows the tuner), its file lands in tuned/scene/,
    /// and the cursor's reconstruction is rendered again with the tuned weights.
    @Test func tTunesTheCursorsSceneAndItsFramesRenderTuned() throws {
        let engine = makeEngine(steps: 40)
        var settings = SceneTuningSettings()
        settings.steps = 12
        engine.tuning = SessionTuning(settings: settings)
        var state = engine.initialState(size: Size(width: 100, height: 30))
        engine.begin()
        defer { engine.perform(.quit, &state) }
        #expect(pump(engine, &state) { Self.done($0, 0..<1) })
        state.cursor = 5
        let effects = apply(.tuneScene, engine, &state)
        #expect(effects == [.tune(scene: 4..<8)], "\(effects)")
        if !Self.done(state, 4..<8) {
            #expect(state.message?.contains("is not inverted yet") == true, "\(String(describing: state.message))")
        }
        #expect(pump(engine, &state) { Self.done($0, 0..<Self.frames) && $0.engine.text == "idle: scene done" })
        #expect(pump(engine, &state) { $0.previews.reconstruction != nil && $0.previews.frame == 5 })
        let untuned = state.previews.reconstruction
        apply(.tuneScene, engine, &state)
        #expect(pump(engine, &state) { $0.lossHistoryLabel.hasPrefix("tuning scene 2") })
        #expect(pump(engine, &state) { $0.engine.text == "idle: scene 2 tuned" }, "\(state.engine.text) \(String(describing: state.engine.error))")
        #expect(state.tunedScenes == [4..<8])
        #expect(FileManager.default.fileExists(atPath: prepared.session.tunedScenePath(method: .scene, frames: 4...7)))
        #expect(pump(engine, &state) { $0.previews.reconstruction != nil && $0.previews.reconstruction != untuned })
        // The tuned render is the tuned generator's image of the frame's latents.
        let tuned = try TunedScene(path: prepared.session.tunedScenePath(method: .scene, frames: 4...7)).apply(to: generator)
        let frame = try #require(prepared.session.readFrame(index: 5, method: .scene, noiseNames: generator.synthesis.noiseLayerNames))
        let workspace = SynthesisWorkspace(network: generator.synthesis, batch: 1)
        #expect(state.previews.reconstruction == tuned.synthesis.renderImage(frame, workspace: workspace))
        #expect(untuned == generator.synthesis.renderImage(frame, workspace: workspace))
    }

    /// open --tune: once the method has finished, every scene is tuned in turn, without a key.
    @Test func tuneAfterInversionTunesEveryScene() throws {
        let engine = makeEngine(steps: 2)
        var settings = SceneTuningSettings()
        settings.steps = 6
        engine.tuning = SessionTuning(settings: settings)
        engine.tuneAfterInversion = true
        var state = engine.initialState(size: Size(width: 100, height: 30))
        engine.begin()
        defer { engine.perform(.quit, &state) }
        #expect(pump(engine, &state) { $0.tunedScenes == [0..<4, 4..<8] }, "\(state.engine.text) \(state.tunedScenes)")
        #expect(state.engine.text == "idle: scene 2 tuned")
        #expect(prepared.session.tunedScenes(method: .scene).map(\.frames) == [0...3, 4...7])
    }
}
