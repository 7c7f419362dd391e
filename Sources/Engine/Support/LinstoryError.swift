/// An error a user reads: one line that names the file (or thing) and the problem, plus a `kind`
/// that callers and tests match on (never the message text, which is for people and may change).
///
/// Every failure that reaches the command line is one of these; the TUI prints `message` and exits
/// non-zero. Internal code may throw its own enums, but converts them to this at the API boundary.
public struct LinstoryError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, in the terms a caller can act on.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// No such file, folder, key, tensor or frame.
        case notFound
        /// It is there, but the system would not read or write it (permissions, I/O, disk full).
        case unreadable
        /// Another kind of file than the one expected (not a PNG, not a zip archive, not a video).
        case wrongFormat
        /// The expected kind of file, but damaged: truncated, bad checksums, contradictory fields.
        case corrupt
        /// Well-formed, but a variant linstory does not handle (a dtype, a compression, an architecture).
        case unsupported
        /// Well-formed, but it does not fit what it is used with (another video's session, shapes that
        /// disagree, a frame window outside the video).
        case mismatch
        /// Larger than the limits linstory sets itself to stay safe on hostile input.
        case tooLarge
        /// An external program (ffmpeg, ffprobe, python) is missing, failed or stalled.
        case tool
        /// A value given by the user or the caller is out of range or malformed.
        case invalidValue
        /// Work that needs every frame asked for before the frames are all there (finalising a session
        /// whose workers have not finished).
        case incomplete
    }

    public let kind: Kind
    /// The file (or thing) the error is about, when there is one: the message starts with it.
    public let file: String?
    /// The problem alone, without the file.
    public let problem: String

    /// "PATH: problem", or the problem alone when no file is named.
    public var message: String { file.map { "\($0): \(problem)" } ?? problem }

    public init(_ kind: Kind, _ problem: String) {
        self.kind = kind
        self.file = nil
        self.problem = problem
    }

    /// "PATH: problem" — the house style for errors about a file.
    public init(_ kind: Kind, file: String, _ problem: String) {
        self.kind = kind
        self.file = file
        self.problem = problem
    }

    /// The same error about another file (the outer one a nested reader was given a part of), or
    /// with the inner file's name moved into the problem.
    public func about(file outer: String) -> LinstoryError {
        LinstoryError(kind, file: outer, file.map { "\($0): \(problem)" } ?? problem)
    }

    public var description: String { message }
}
