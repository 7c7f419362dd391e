import Foundation

/// Shard `index` of `count`: one worker's share of a session, whole scenes. Every worker computes
/// the same split from the session's cut list alone (no coordinator, no shared state), so shard 3/8
/// is the same frames on every machine of a cluster.
public struct SessionShard: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// 1 ... count.
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, (1...count).contains(index) else {
            throw LinstoryError(.invalidValue, "shard \(index)/\(count): give I/N with 1 <= I <= N")
        }
        self.index = index
        self.count = count
    }

    /// "I/N", as `--shard` takes it.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw LinstoryError(.invalidValue, "shard '\(text)': give I/N (e.g. 3/8: the third of eight)")
        }
        try self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }
    /// The name its status file goes by: "3-of-8".
    public var fileName: String { "\(index)-of-\(count)" }

    /// Contiguous runs of scenes, one per shard, balanced by frame count: shard k ends at the scene
    /// boundary nearest to k/N of the frames (never before the previous shard's end). A shard may be
    /// empty when there are fewer scenes than shards. `sizes`: each scene's frame count, in order.
    public static func assign(sizes: [Int], shards: Int) -> [Range<Int>] {
        precondition(shards >= 1)
        var cumulative = [0]
        for s in sizes { cumulative.append(cumulative.last! + s) }
        let total = cumulative.last!
        var ends: [Int] = []
        var previous = 0
        for k in 1..<shards {
            let goal = Double(total) * Double(k) / Double(shards)
            // The boundary (a count of scenes) whose frames before it come closest to the goal; ties to the earlier one.
            var best = previous
            for b in previous...sizes.count where abs(Double(cumulative[b]) - goal) < abs(Double(cumulative[best]) - goal) { best = b }
            ends.append(best)
            previous = best
        }
        ends.append(sizes.count)
        var start = 0
        return ends.map { end in
            defer { start = end }
            return start..<end
        }
    }

    /// This shard's scenes of `scenes` (window numbering, in order).
    public func scenes(of scenes: [(frames: Range<Int>, clean: Range<Int>)]) -> [(frames: Range<Int>, clean: Range<Int>)] {
        Array(scenes[Self.assign(sizes: scenes.map(\.frames.count), shards: count)[index - 1]])
    }
}

/// What a worker says of its shard, in `shards/METHOD/I-of-N.json`: written by that worker alone
/// (atomically), at its start, as it saves frames, and when it ends. Which frames are done is read
/// from the frame files themselves; this adds what only the worker knows: that it is running, where,
/// since when, and why it stopped.
public struct ShardStatus: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable {
        case running, complete, failed, stopped
    }

    public var shard: String
    public var method: String
    public var state: State
    /// The shard's frames (window numbering), and how many of them are saved.
    public var frames: Int
    public var framesDone: Int
    public var firstFrame: Int?
    public var lastFrame: Int?
    public var scenes: Int
    /// Generator evaluations and seconds this worker spent (the last attempt's).
    public var evaluations: Int
    public var seconds: Double
    public var host: String
    public var pid: Int32
    /// The Slurm job, when it runs under Slurm: "JOB_TASK".
    public var job: String?
    public var started: Date
    public var updated: Date
    public var message: String?

    public init(
        shard: String, method: String, state: State, frames: Int, framesDone: Int, firstFrame: Int?, lastFrame: Int?, scenes: Int,
        evaluations: Int, seconds: Double, host: String, pid: Int32, job: String?, started: Date, updated: Date, message: String?
    ) {
        self.shard = shard
        self.method = method
        self.state = state
        self.frames = frames
        self.framesDone = framesDone
        self.firstFrame = firstFrame
        self.lastFrame = lastFrame
        self.scenes = scenes
        self.evaluations = evaluations
        self.seconds = seconds
        self.host = host
        self.pid = pid
        self.job = job
        self.started = started
        self.updated = updated
        self.message = message
    }
}

extension SessionFolder {
    public func shardStatusPath(method: InversionMethod, shard: SessionShard) -> String {
        "\(folder)/shards/\(method.rawValue)/\(shard.fileName).json"
    }

    public func writeShardStatus(_ status: ShardStatus, method: InversionMethod, shard: SessionShard) throws {
        try FileManager.default.createDirectory(atPath: "\(folder)/shards/\(method.rawValue)", withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try AtomicFile.write(try encoder.encode(status), to: shardStatusPath(method: method, shard: shard))
    }

    /// The status files of `method`'s shards, by shard (unreadable ones are skipped: a worker
    /// rewrites its file as it goes).
    public func shardStatuses(method: InversionMethod) -> [SessionShard: ShardStatus] {
        let dir = "\(folder)/shards/\(method.rawValue)"
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        var found: [SessionShard: ShardStatus] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasSuffix(".json") {
            let parts = name.dropLast(5).components(separatedBy: "-of-")
            guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), let shard = try? SessionShard(index: i, count: n),
                  let data = FileManager.default.contents(atPath: "\(dir)/\(name)"), let status = try? decoder.decode(ShardStatus.self, from: data)
            else { continue }
            found[shard] = status
        }
        return found
    }
}

/// An exclusive lock on a session folder (`flock` on its `.lock` file), held while a worker prepares
/// the session (decodes the video, writes the cut list, records the method's settings), so that many
/// workers starting at once make those files once. Released when the value goes (or the process
/// ends, however it ends). flock works across the machines of an NFSv4 or Lustre shared filesystem.
public final class SessionLock {
    private let fd: Int32

    public init(folder: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw LinstoryError(.unreadable, file: folder, "cannot create the session folder: \(error.localizedDescription)")
        }
        let path = folder + "/.lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LinstoryError(.unreadable, file: path, "cannot open the session's lock file: \(String(cString: strerror(errno)))") }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let message = String(cString: strerror(errno))
                close(fd)
                throw LinstoryError(.unreadable, file: path, "cannot lock the session: \(message)")
            }
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
