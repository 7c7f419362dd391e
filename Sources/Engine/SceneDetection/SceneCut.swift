/// One shot boundary.
public struct SceneCut: Sendable, Equatable {
    /// The first frame of the new shot (0-based). For a gradual transition, the middle of its span:
    /// the frame an editor would cut on, and where the frames switch from one scene to the next.
    public var frame: Int
    /// `frame` in seconds from the start.
    public var time: Double
    public var kind: TransitionKind
    /// How much the picture changes across the boundary, in the units of the detector's threshold
    /// (the mean absolute difference of Y, Cb and Cr summed, 0-255 scale): the higher above the
    /// threshold, the surer the cut. Cut lists from other tools carry none (0).
    public var score: Double
    /// The transition's first and last frame: [frame, frame] for a hard cut; the mixed frames of a
    /// dissolve; for a fade, everything from the first darkening frame to the last brightening one.
    public var span: ClosedRange<Int>

    public init(frame: Int, time: Double, kind: TransitionKind, score: Double, span: ClosedRange<Int>) {
        self.frame = frame
        self.time = time
        self.kind = kind
        self.score = score
        self.span = span
    }

    /// A hard cut at `frame`.
    public init(frame: Int, fps: Double, score: Double = 0) {
        self.init(frame: frame, time: Double(frame) / fps, kind: .cut, score: score, span: frame...frame)
    }
}
