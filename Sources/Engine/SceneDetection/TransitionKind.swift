/// How one shot gives way to the next.
public enum TransitionKind: String, Sendable, CaseIterable, Codable {
    /// The new shot starts on one frame.
    case cut
    /// The two shots are mixed over several frames.
    case dissolve
    /// The picture goes to (or comes from) a single colour, black or white, over several frames.
    case fade
}
