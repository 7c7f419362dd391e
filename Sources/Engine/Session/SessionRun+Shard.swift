import Foundation

/// A run split among workers that fill one session folder at once (`invert --shard I/N`, a Slurm
/// array). No file is written by two workers: each writes its own scenes' frame files (atomically)
/// and its own status file; the manifest is written only while the session's lock is held
/// (`adopt`), and by `finish` once every frame is there.
extension SessionRun {
    /// Makes the session's record of this method this run's settings, creating it when there is
    /// none. A record of other settings is replaced only while it has no saved frames; otherwise this
    /// refuses (mixing settings would mix results). Call with the session's `SessionLock` held.
    public func adopt(session: inout SessionFolder) throws {
        let count = session.manifest.count
        if continues(session.manifest[method], count: count) { return }
        if let r = session.manifest[method], session.savedFrames(method: method, count: count).contains(where: { $0 != nil }) {
            throw LinstoryError(
                .mismatch, file: session.manifestPath,
                "this session's \(method.rawValue) frames were made with other settings (budget \(r.budget), \(r.space), loss \(r.loss)); give the same settings or use a new --out folder")
        }
        session.manifest[method] = SessionFolder.MethodRecord(for: self, count: count)
        try session.save()
    }

    /// This machine's name as `gethostname` gives it (what Slurm calls the node), without a DNS lookup.
    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// What one shard's worker did.
    public struct ShardOutcome: Sendable {
        public var status: ShardStatus
        /// Frames this worker inverted (the others were saved already).
        public var framesInverted: Int
    }

    /// Inverts the frames of `shard`'s scenes that are not saved yet, writing each frame's file as it
    /// finishes and the shard's status file as it goes (a heartbeat at least every `heartbeat`
    /// seconds, from the optimiser's steps). Results are those of a one-process run, bit for bit: the
    /// same scenes, batches and random streams. The session must hold this run's record (`adopt`).
    /// Interrupted (the observer says stop), the status says `stopped`; failed, `failed` with the
    /// error; either way the error is rethrown, and running the shard again finishes it.
    public func runShard(
        _ shard: SessionShard, session: SessionFolder, generator: Generator, statistics: WStatistics, targets: any TargetFrames,
        scenes: SceneList, job: String? = nil, heartbeat: Double = 30, observer: InversionObserver? = nil,
        onFrame: ((Int, FrameInversion) -> Void)? = nil
    ) throws -> ShardOutcome {
        let count = targets.count
        guard continues(session.manifest[method], count: count) else {
            throw LinstoryError(.mismatch, file: session.manifestPath, "this session holds no \(method.rawValue) record with these settings (prepare it first)")
        }
        let first = session.manifest.first
        let window = Self.localScenes(scenes, first: first, count: count)
        let mine = shard.scenes(of: window)
        let frames = mine.reduce(0) { $0 + $1.frames.count }
        let within = (mine.first?.frames.lowerBound ?? 0)..<(mine.last?.frames.upperBound ?? 0)
        let evaluations = session.savedFrames(method: method, count: count, within: within)
        let done = evaluations.map { $0 != nil }
        let started = Date()
        let status = ShardStatus(
            shard: shard.description, method: method.rawValue, state: .running, frames: frames,
            framesDone: mine.reduce(0) { n, s in n + s.frames.filter { done[$0] }.count },
            firstFrame: mine.first.map { $0.frames.lowerBound + first }, lastFrame: mine.last.map { $0.frames.upperBound - 1 + first },
            scenes: mine.count, evaluations: 0, seconds: 0, host: Self.hostName, pid: getpid(), job: job,
            started: started, updated: started, message: nil)
        let reporter = ShardReporter(status: status, heartbeat: heartbeat) { try? session.writeShardStatus($0, method: method, shard: shard) }
        reporter.update({ _ in }, force: true)
        var inverted = 0
        let beating: InversionObserver = { p in
            reporter.beat()
            return observer?(p) ?? true
        }
        do {
            _ = try work(
                session: session, generator: generator, statistics: statistics, targets: targets, window: window, scenes: mine, done: done,
                smoothFromNaive: false, observer: beating
            ) { indices, finished in
                inverted += indices.count
                let newly = indices.filter { !done[$0] }.count
                reporter.update { s in
                    s.framesDone += newly
                    s.evaluations += finished.reduce(0) { $0 + $1.evaluations }
                }
                for (i, f) in zip(indices, finished) { onFrame?(first + i, f) }
            }
        } catch let error as InversionCancelled {
            reporter.update({ $0.state = .stopped; $0.message = "interrupted; run the shard again to finish it" }, force: true)
            throw error
        } catch {
            reporter.update({ $0.state = .failed; $0.message = (error as? LinstoryError)?.message ?? "\(error)" }, force: true)
            throw error
        }
        let saved = session.savedFrames(method: method, count: count, within: within)
        reporter.update({ s in
            s.framesDone = mine.reduce(0) { n, sc in n + sc.frames.filter { saved[$0] != nil }.count }
            s.state = s.framesDone == s.frames ? .complete : .failed
            if s.state == .failed { s.message = "\(s.frames - s.framesDone) frames did not save" }
        }, force: true)
        return ShardOutcome(status: reporter.current, framesInverted: inverted)
    }
}

/// A worker's status file as it changes: updates from the saves and a heartbeat from the optimiser's
/// steps (another thread), written at most every two seconds unless forced.
private final class ShardReporter: @unchecked Sendable {
    private let lock = NSLock()
    private var status: ShardStatus
    private var lastWrite = Date.distantPast
    private let heartbeat: Double
    private let writer: (ShardStatus) -> Void

    init(status: ShardStatus, heartbeat: Double, writer: @escaping (ShardStatus) -> Void) {
        self.status = status
        self.heartbeat = heartbeat
        self.writer = writer
    }

    var current: ShardStatus {
        lock.lock()
        defer { lock.unlock() }
        return status
    }

    func update(_ change: (inout ShardStatus) -> Void, force: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        change(&status)
        let now = Date()
        guard force || now.timeIntervalSince(lastWrite) >= min(heartbeat, 2) else { return }
        status.updated = now
        status.seconds = now.timeIntervalSince(status.started)
        writer(status)
        lastWrite = now
    }

    /// Says the worker is alive when nothing was written for `heartbeat` seconds.
    func beat() {
        lock.lock()
        let due = Date().timeIntervalSince(lastWrite) >= heartbeat
        lock.unlock()
        if due { update({ _ in }, force: true) }
    }
}
