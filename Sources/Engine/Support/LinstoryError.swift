/// An error a user reads: one line that names the file (or thing) and the problem.
///
/// Every failure that reaches the command line is one of these; the TUI prints `message` and exits
/// non-zero. Internal code may throw its own enums, but converts them to this at the API boundary.
public struct LinstoryError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String

    public init(_ message: String) { self.message = message }

    /// "PATH: problem" — the house style for errors about a file.
    public init(file: String, _ problem: String) { self.message = "\(file): \(problem)" }

    public var description: String { message }
}
