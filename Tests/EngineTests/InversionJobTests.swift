import Engine
import Foundation
import Testing
import TestSupport

/// `InversionJob` as the UI drives it: a real inversion on its own thread, read through snapshots.
@Suite("InversionJob: the per-step loss curve")
struct InversionJobTests {
    /// Polls the job until `condition` holds (or it ends); the deadline only stops a broken job from
    /// hanging the suite, it is not what the test waits for.
    static func waitFor(_ job: InversionJob, _ condition: (InversionJob.Snapshot) -> Bool) -> InversionJob.Snapshot {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let s = job.snapshot
            if condition(s) || job.isDone { return s }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return job.snapshot
    }

    /// The scene method renders 2 of the scene's 4 frames at each step, a different pair each time;
    /// the curve must still follow the scene over every step (it once restarted whenever the pair
    /// changed, so the pane showed one dot). A per-frame method's curve follows its first frame.
    @Test(arguments: [InversionMethod.scene, .naive])
    func theCurveHoldsEveryStepOfTheCurrentScene(method: InversionMethod) throws {
        let bench = try SessionRunTests.Bench()
        _ = try bench.open()
        var settings = InversionSettings()
        settings.batch = 2
        settings.seed = 3
        var inversion = SessionRun(method: method, budget: 400, settings: settings, lossName: "default")
        inversion.measureHeldOut = false
        let job = try InversionJob.session(
            inversion, folder: bench.folder, generator: bench.generator, statistics: bench.statistics, targets: InMemoryTargets(bench.targets),
            scenes: SceneList(cuts: [], frames: SessionRunTests.Bench.frames))
        job.start()
        defer {
            job.cancel()
            job.wait()
        }
        _ = Self.waitFor(job) { $0.step >= 12 }
        job.pause()
        let paused = Self.waitFor(job) { $0.phase == .paused }
        #expect(paused.phase == .paused, "the job ended before it could be paused: \(paused.phase) \(paused.error ?? "")")
        // Paused inside the observer: the snapshot holds still, one point per step of this pass.
        #expect(paused.step >= 12)
        #expect(paused.stepLosses.count == paused.step, "\(paused.stepLosses.count) points after \(paused.step) steps")
        #expect(paused.stepLosses.allSatisfy { $0.isFinite && $0 > 0 })
        switch method {
        case .scene:
            #expect(paused.curve == 0...3, "the scene's frames: \(String(describing: paused.curve))")
            #expect(paused.frames.count == 2)
        default:
            #expect(paused.curve == 0...0, "the batch's first frame: \(String(describing: paused.curve))")
        }
        // The curve goes down as the fit proceeds (the first steps start from w_avg). Only the first 12
        // steps are compared: where the pause lands depends on timing, and the scene method's loss at
        // one step is one random pair of frames, so a single late point can sit above the first.
        let early = paused.stepLosses[0..<4].reduce(0, +) / 4
        let later = paused.stepLosses[8..<12].reduce(0, +) / 4
        #expect(later < early, "steps 8..<12 average \(later), steps 0..<4 \(early): \(paused.stepLosses)")
    }

    /// A reader copies only the frames that landed since it last looked: the snapshot carries a count.
    @Test func finishedFramesComeAsWhatIsNew() {
        let job = InversionJob(expectedEvaluations: 3) { job in
            job.frameFinished(3, loss: 0.5)
            job.frameFinished(1, loss: 0.25)
            job.frameFinished(3, loss: 0.125)
        }
        job.start()
        job.wait()
        #expect(job.snapshot.finishedCount == 3 && job.snapshot.phase == .finished)
        #expect(job.finishedFrames(from: 0).map(\.frame) == [3, 1, 3] && job.finishedFrames(from: 0).map(\.loss) == [0.5, 0.25, 0.125])
        #expect(job.finishedFrames(from: 2).map(\.frame) == [3] && job.finishedFrames(from: 3).isEmpty && job.finishedFrames(from: 7).isEmpty)
    }
}
