import Foundation

/// How long a child (ffmpeg, ffprobe) has sent nothing, counted in polls of at most a second.
///
/// A poll that took far longer than it asked for means this process was stopped and then continued
/// (kill -STOP/-CONT, Slurm's suspend and resume of a job); that time is no stall and counts as the poll
/// it asked for. Counted by the wall clock alone, a decode whose linstory and ffmpeg were stopped
/// for over a minute failed on resume with "ffmpeg stalled". A child stopped on its own while we run
/// still counts in full, and is killed after `timeout`.
public struct StallClock: Sendable {
    public let timeout: Double
    /// Seconds of silence counted so far.
    public private(set) var silent: Double = 0
    /// What a poll may overrun its timeout by and still count whole (a busy machine wakes late).
    static let overrun = 0.25

    public init(timeout: Double) {
        self.timeout = timeout
    }

    /// True once `timeout` seconds of silence are counted.
    public var expired: Bool { silent >= timeout }

    /// The next poll's timeout in seconds: a second, or what is left.
    public var nextPoll: Double { max(0, min(1, timeout - silent)) }

    /// A poll that asked for `asked` seconds came back empty after `took`.
    public mutating func record(asked: Double, took: Double) {
        silent += min(max(0, took), asked + Self.overrun)
    }

    /// Seconds on a clock that only goes forward.
    public static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
