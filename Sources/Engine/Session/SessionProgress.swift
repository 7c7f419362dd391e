import Foundation

/// How far a session is, per method and shard, read from the files any number of workers leave
/// (frame files for what is done, shard status files for who is on it): what `linstory status`
/// prints and the UI shows while a cluster fills a session.
public struct SessionProgress: Sendable, Codable, Equatable {
    public struct Shard: Sendable, Codable, Equatable {
        /// "I/N".
        public var shard: String
        public var index: Int
        public var count: Int
        /// Video frame numbers of the shard's first and last frame (nil for an empty shard).
        public var firstFrame: Int?
        public var lastFrame: Int?
        public var frames: Int
        public var done: Int
        /// complete, running, stalled (running, but no word for a while or its process is gone),
        /// stopped, failed, or not started.
        public var state: String
        public var updated: Date?
        public var host: String?
        public var job: String?
        public var message: String?
    }

    public struct Method: Sendable, Codable, Equatable {
        public var method: String
        public var budget: Int
        public var space: String
        public var loss: String
        public var frames: Int
        public var done: Int
        /// `finish` (or a one-process run) has built the files that need every frame.
        public var finalized: Bool
        /// Window frames not saved yet, as video frame ranges ("70-99, 140").
        public var missing: String
        /// Shards known from their status files (a split into N is known once a worker of it ran),
        /// with the not-started ones of the same split filled in.
        public var shards: [Shard]
        /// The shards of `shards` not complete, as "2,3" (what to submit again).
        public var incompleteShards: [Int]
    }

    public var session: String
    public var video: String
    public var first: Int
    public var frames: Int
    public var scenes: Int
    public var methods: [Method]

    /// - Parameters:
    ///   - staleAfter: seconds without word from a running worker before it counts as stalled
    ///     (workers write at least every 30 s while they work).
    public static func measure(session: SessionFolder, scenes: SceneList, now: Date = Date(), staleAfter: Double = 300) -> SessionProgress {
        let m = session.manifest
        let local = SessionRun.localScenes(scenes, first: m.first, count: m.count)
        let host = SessionRun.hostName
        var methods: [Method] = []
        for method in InversionMethod.allCases {
            guard let record = m[method] else { continue }
            let saved = session.savedFrames(method: method, count: m.count)
            let missing = saved.indices.filter { saved[$0] == nil }
            let statuses = session.shardStatuses(method: method)
            var shards: [Shard] = []
            for n in Set(statuses.keys.map(\.count)).sorted() {
                let assignment = SessionShard.assign(sizes: local.map(\.frames.count), shards: n)
                for (k, sceneRange) in assignment.enumerated() {
                    let mine = local[sceneRange]
                    let frames = mine.flatMap { Array($0.frames) }
                    let done = frames.filter { saved[$0] != nil }.count
                    let shard = try! SessionShard(index: k + 1, count: n)
                    let status = statuses[shard]
                    var state = status?.state.rawValue ?? "not started"
                    if done == frames.count {
                        state = "complete"
                    } else if status?.state == .running || status?.state == .complete, let s = status {
                        // A worker killed outright (SIGKILL, a node lost) leaves "running" behind.
                        let gone = s.host == host && kill(s.pid, 0) != 0 && errno == ESRCH
                        state = gone || now.timeIntervalSince(s.updated) > staleAfter ? "stalled" : "running"
                    }
                    shards.append(Shard(
                        shard: shard.description, index: k + 1, count: n, firstFrame: mine.first.map { $0.frames.lowerBound + m.first },
                        lastFrame: mine.last.map { $0.frames.upperBound - 1 + m.first }, frames: frames.count, done: done, state: state,
                        updated: status?.updated, host: status?.host, job: status?.job, message: status?.message))
                }
            }
            methods.append(Method(
                method: method.rawValue, budget: record.budget, space: record.space, loss: record.loss, frames: m.count,
                done: m.count - missing.count, finalized: record.complete && missing.isEmpty,
                missing: SessionFolder.describe(frames: missing.map { $0 + m.first }), shards: shards,
                incompleteShards: shards.filter { $0.state != "complete" }.map(\.index)))
        }
        return SessionProgress(session: session.folder, video: m.video.path, first: m.first, frames: m.count, scenes: local.count, methods: methods)
    }
}
