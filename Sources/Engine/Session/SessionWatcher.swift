import Foundation

/// Watches a session that other processes fill (a cluster's shards): a thread of its own lists the
/// method's frame files every `interval` seconds and reads each new frame's final loss from its
/// header, and the reader (the UI, each pass) takes what landed since it last looked. It also counts
/// the shards by state from their status files, and notices when the method is finalized.
public final class SessionWatcher: @unchecked Sendable {
    public struct Snapshot: Sendable {
        public var revision = 0
        /// Frames saved so far (window numbering), of `count`.
        public var saved = 0
        public var count = 0
        /// Shards by state ("running": 2, "complete": 1, ...), from their status files.
        public var shards: [String: Int] = [:]
        public var finalized = false
    }

    public let method: InversionMethod
    private let session: SessionFolder
    private let interval: Double
    private let lock = NSLock()
    private var current = Snapshot()
    /// Frames landed and not yet taken: (window frame, final loss).
    private var landed: [(Int, Float)] = []
    private var known: Set<Int>
    private var stopped = false
    private var thread: Thread?

    /// `known`: the frames the reader already has (their files are not read again).
    public init(session: SessionFolder, method: InversionMethod, known: Set<Int>, interval: Double = 2) {
        self.session = session
        self.method = method
        self.interval = interval
        self.known = known
        current.count = session.manifest.count
        current.saved = known.count
    }

    deinit { stop() }

    /// Whether `method` of this session is being filled by shards: some worker of a split run has
    /// written its status, and the method is not finalized.
    public static func shouldWatch(_ session: SessionFolder, method: InversionMethod) -> Bool {
        session.manifest[method]?.complete != true && !session.shardStatuses(method: method).isEmpty
    }

    public func start() {
        let t = Thread { [weak self] in
            while let self, !self.isStopped {
                self.poll()
                Thread.sleep(forTimeInterval: self.interval)
            }
        }
        t.name = "linstory session watcher"
        thread = t
        t.start()
    }

    public func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    public var snapshot: Snapshot {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    /// The frames that landed since the last call, with their final losses.
    public func take() -> [(frame: Int, loss: Float)] {
        lock.lock()
        defer { lock.unlock() }
        let out = landed
        landed = []
        return out.map { (frame: $0.0, loss: $0.1) }
    }

    /// One look at the files (the thread's loop; tests call it directly).
    public func poll() {
        let count = session.manifest.count
        var fresh: [(Int, Float)] = []
        for i in session.savedFrameIndices(method: method, count: count) where !known.contains(i) {
            // A frame is complete once its file is there (written by rename); its loss is row 0 of "loss".
            guard let loss = try? session.frameHeader(index: i, method: method)?.row("loss", 0) else { continue }
            known.insert(i)
            fresh.append((i, loss.scalars[0]))
        }
        var shards: [String: Int] = [:]
        for status in session.shardStatuses(method: method).values { shards[status.state.rawValue, default: 0] += 1 }
        let finalized = (try? SessionFolder.read(folder: session.folder))?.manifest[method]?.complete == true
        lock.lock()
        landed += fresh
        let changed = !fresh.isEmpty || shards != current.shards || finalized != current.finalized
        current.saved = known.count
        current.shards = shards
        current.finalized = finalized
        if changed { current.revision += 1 }
        lock.unlock()
    }
}
