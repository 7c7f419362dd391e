/// What the engine last reported, as the header shows it. The engine sends value snapshots; it
/// never touches the screen.
public struct EngineStatus: Equatable, Sendable {
    /// "detecting scenes", "inverting scene 3 of 12", "idle"...
    public var text: String
    public var paused: Bool
    public var iterationsPerSecond: Double?
    /// Seconds left for the current job.
    public var eta: Double?
    /// The last error, with the frame it happened on; the UI stays usable.
    public var error: EngineError?

    public struct EngineError: Equatable, Sendable {
        public var message: String
        public var frame: Int?
        public init(message: String, frame: Int? = nil) {
            self.message = message
            self.frame = frame
        }
    }

    /// Whether inversion (or the start before it) is under way, so empty panes say "not yet"
    /// rather than "press r".
    public var isInverting: Bool { !text.hasPrefix("idle") && error == nil }

    public init(text: String = "idle", paused: Bool = false, iterationsPerSecond: Double? = nil, eta: Double? = nil, error: EngineError? = nil) {
        self.text = text
        self.paused = paused
        self.iterationsPerSecond = iterationsPerSecond
        self.eta = eta
        self.error = error
    }
}
