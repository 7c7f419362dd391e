import Foundation

/// Inversion on a thread of its own, for a caller that must never wait (the UI): the caller reads
/// snapshots whenever it likes and may pause, resume or cancel at any moment. The work reports
/// through `observer` (every optimisation step) and `frameFinished` (every saved frame); pausing
/// blocks the work inside the observer, cancelling makes the observer say stop.
public final class InversionJob: @unchecked Sendable {
    public enum Phase: Equatable, Sendable {
        case running, paused, finished, cancelled, failed
    }

    /// What the job last reported, as one value.
    public struct Snapshot: Sendable {
        public var phase: Phase = .running
        /// What the job is doing, e.g. "scene 3 of 12".
        public var label = ""
        /// The frames being optimised (clip numbering).
        public var frames: [Int] = []
        public var step = 0
        public var steps = 0
        /// One loss per step of the current curve (`curve`): the scene's mean loss for the scene
        /// method, the first frame's loss for the per-frame methods.
        public var stepLosses: [Float] = []
        /// The frames `stepLosses` follows (clip numbering): a scene, or one frame.
        public var curve: ClosedRange<Int>?
        /// The latest reconstruction of `previewFrame`, [C, R, R].
        public var preview: Tensor?
        public var previewFrame: Int?
        /// How many frames this job has finished so far; `finishedFrames(from:)` lists them. (The
        /// list itself stays out of the snapshot, which a reader copies at every step: a film's
        /// list would make each copy cost its length.)
        public var finishedCount = 0
        /// Generator evaluations so far and expected in all.
        public var evaluations = 0
        public var expectedEvaluations: Int
        /// Evaluations per second (smoothed), and seconds left at that rate.
        public var iterationsPerSecond: Double?
        public var eta: Double? {
            guard let r = iterationsPerSecond, r > 0 else { return nil }
            return Double(max(0, expectedEvaluations - evaluations)) / r
        }
        /// The error that stopped the job, and the frame it happened on.
        public var error: String?
        public var errorFrame: Int?
        /// Bumped on every change, so a reader can tell when to redraw.
        public var revision = 0

        public init(expectedEvaluations: Int) {
            self.expectedEvaluations = expectedEvaluations
        }
    }

    private let condition = NSCondition()
    private var current: Snapshot
    /// Every frame finished, in the order they finished, with its final loss (clip numbering).
    private var finishedLog: [(frame: Int, loss: Float)] = []
    private var pauseRequested = false
    private var cancelRequested = false
    private var done = false
    private var lastRateSample: (time: Date, evaluations: Int)?
    private let work: @Sendable (InversionJob) throws -> Void

    /// `work` runs on the job's thread when `start` is called; it should pass `observer` to the
    /// engine and call `frameFinished` for each saved frame.
    public init(expectedEvaluations: Int, work: @escaping @Sendable (InversionJob) throws -> Void) {
        current = Snapshot(expectedEvaluations: expectedEvaluations)
        self.work = work
    }

    public func start() {
        let thread = Thread { [self] in
            let phase: Phase
            var message: String?
            do {
                try work(self)
                phase = .finished
            } catch is InversionCancelled {
                phase = .cancelled
            } catch {
                phase = .failed
                message = (error as? LinstoryError)?.description ?? "\(error)"
            }
            condition.lock()
            current.phase = phase
            if let message {
                current.error = message
                current.errorFrame = current.frames.first
            }
            current.revision += 1
            done = true
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "linstory inversion"
        thread.stackSize = 8 << 20
        thread.start()
    }

    public var snapshot: Snapshot {
        condition.lock()
        defer { condition.unlock() }
        return current
    }

    /// The snapshot's revision alone: a poller reads this every pass and the snapshot only when it moved.
    public var revision: Int {
        condition.lock()
        defer { condition.unlock() }
        return current.revision
    }

    public var isDone: Bool {
        condition.lock()
        defer { condition.unlock() }
        return done
    }

    /// Pauses at the next optimisation step (the work blocks there until `resume` or `cancel`).
    public func pause() {
        condition.lock()
        pauseRequested = true
        condition.unlock()
    }

    public func resume() {
        condition.lock()
        pauseRequested = false
        if current.phase == .paused { current.phase = .running }
        lastRateSample = nil
        current.revision += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Asks the work to stop at its next step; `wait` to know it has.
    public func cancel() {
        condition.lock()
        cancelRequested = true
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until the work has stopped (finished, failed or cancelled).
    public func wait() {
        condition.lock()
        while !done { condition.wait() }
        condition.unlock()
    }

    /// Changes the label ("scene 3 of 12").
    public func setLabel(_ label: String) {
        condition.lock()
        current.label = label
        current.revision += 1
        condition.unlock()
    }

    /// For the work: one frame is finished and saved.
    public func frameFinished(_ frame: Int, loss: Float) {
        condition.lock()
        finishedLog.append((frame, loss))
        current.finishedCount = finishedLog.count
        current.revision += 1
        condition.unlock()
    }

    /// The frames finished after the first `start` (a reader passes the count it has seen), with
    /// their final losses, in the order they finished: a reader copies only what is new.
    public func finishedFrames(from start: Int) -> [(frame: Int, loss: Float)] {
        condition.lock()
        defer { condition.unlock() }
        return start < finishedLog.count ? Array(finishedLog[max(0, start)...]) : []
    }

    /// For the work: pass to the engine. Records the step, blocks while paused, says stop once
    /// cancelled.
    public var observer: InversionObserver {
        { [self] progress in report(progress) }
    }

    private func report(_ p: InversionProgress) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        // A new curve starts with another scene or frame, or when the same one starts a new pass
        // (a refit after a split counts its steps from 1 again).
        if p.curve != current.curve || p.step <= current.step { current.stepLosses = [] }
        current.curve = p.curve
        current.frames = p.frames
        current.step = p.step
        current.steps = p.steps
        current.stepLosses.append(p.curveLoss)
        if let preview = p.preview {
            current.preview = preview.slice(0..<1).reshaped(Array(preview.shape.dropFirst()))
            current.previewFrame = p.frames.first
        }
        current.evaluations += p.frames.count
        let now = Date()
        if let last = lastRateSample {
            let seconds = now.timeIntervalSince(last.time)
            if seconds >= 0.5 {
                let rate = Double(current.evaluations - last.evaluations) / seconds
                current.iterationsPerSecond = current.iterationsPerSecond.map { 0.7 * $0 + 0.3 * rate } ?? rate
                lastRateSample = (now, current.evaluations)
            }
        } else {
            lastRateSample = (now, current.evaluations)
        }
        current.revision += 1
        while pauseRequested && !cancelRequested {
            if current.phase != .paused {
                current.phase = .paused
                current.revision += 1
            }
            condition.wait()
        }
        return !cancelRequested
    }
}

extension InversionJob {
    /// A job that runs `inversion` over a session (the frames not saved yet plus `redo`, window
    /// numbering), reporting each saved frame. The job owns the session folder while it runs. The
    /// inversion's own settings (`measureHeldOut` among them) are used as they are.
    public static func session(
        _ inversion: SessionRun, folder: String, generator: Generator, statistics: WStatistics, targets: any TargetFrames,
        scenes: SceneList, redo: [Range<Int>] = [], label: String = ""
    ) throws -> InversionJob {
        let session = try SessionFolder.read(folder: folder)
        let count = targets.count
        let record = session.manifest[inversion.method]
        let reusable = record.map { $0.matches(inversion, count: count) } ?? false
        var pending = Set((0..<count).filter { !(reusable && record!.isDone($0)) })
        for r in redo { pending.formUnion(r.clamped(to: 0..<count)) }
        let starts = SessionRun.sequentialStartFrames(scenes, first: session.manifest.first, count: count)
        let expected = inversion.expectedEvaluations(
            count: count, starts: starts.count, pending: pending.count, pendingStarts: starts.filter(pending.contains).count)
        let job = InversionJob(expectedEvaluations: expected) { job in
            var session = try SessionFolder.read(folder: folder)
            job.setLabel(label)
            _ = try inversion.run(
                session: &session, generator: generator, statistics: statistics, targets: targets, scenes: scenes, resume: true,
                redo: redo, observer: job.observer, onFrame: { frame, f in job.frameFinished(frame, loss: f.finalLoss) })
        }
        return job
    }
}
