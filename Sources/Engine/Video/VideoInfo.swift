/// What a frame source delivers: frame size, rate and how many frames to expect.
public struct VideoInfo: Sendable, Equatable {
    /// Size of the frames `next()` returns (after any scaling the source was asked for).
    public var width: Int
    public var height: Int
    /// Frames per second; the time of frame i is i / fps.
    public var fps: Double
    /// The number of frames, when known: exact when the container records it (mp4's sample table, a
    /// PNG folder), otherwise estimated from the duration. Nil when neither is available.
    public var frameCount: Int?
    /// Whether `frameCount` is a count rather than an estimate.
    public var frameCountIsExact: Bool

    public init(width: Int, height: Int, fps: Double, frameCount: Int?, frameCountIsExact: Bool) {
        self.width = width
        self.height = height
        self.fps = fps
        self.frameCount = frameCount
        self.frameCountIsExact = frameCountIsExact
    }
}
