/// A path through latent space over a run of frames, made of straight segments between frames: the
/// scene method's fitted lines (one per segment of a scene), or the straight line between any two
/// frames. The one place a latent along a path is evaluated: at a frame position (fractional, and
/// beyond the ends, which extrapolates) or at t over the whole path (0 at its first frame, 1 at its
/// last). The UI's scrubber, `interpolate` and the session's readers all go through it.
///
/// Between two segments that do not touch (the scene method fits a split scene as two lines, the
/// second starting on the frame after the first ends) the path runs straight from the end of one to
/// the start of the next, so it is continuous everywhere.
public struct LatentPath: Sendable {
    public struct Segment: Sendable {
        /// The frames (video numbering) at the line's t = 0 and t = 1.
        public var frames: ClosedRange<Int>
        public var line: LatentLine  // ends [num_ws, w_dim]
        /// The noise maps frames on this segment are rendered with (per layer [R, R]); nil: the model's const noise.
        public var noise: [Tensor]?

        public init(frames: ClosedRange<Int>, line: LatentLine, noise: [Tensor]?) {
            self.frames = frames
            self.line = line
            self.noise = noise
        }
    }

    /// In frame order, not overlapping; never empty.
    public let segments: [Segment]

    public init(segments: [Segment]) {
        precondition(!segments.isEmpty, "a latent path needs a segment")
        for (a, b) in zip(segments, segments.dropFirst()) {
            precondition(a.frames.upperBound < b.frames.lowerBound, "latent path segments \(a.frames) and \(b.frames) overlap or are out of order")
        }
        self.segments = segments
    }

    /// The straight line from frame `a` to frame `b` (either order), rendered with `a`'s noise maps.
    public init(from a: Int, _ start: FrameInversion, to b: Int, _ end: FrameInversion) {
        let (lo, hi, first, last) = a <= b ? (a, b, start, end) : (b, a, end, start)
        self.init(segments: [Segment(frames: lo...hi, line: LatentLine(start: first.ws, end: last.ws), noise: start.noise)])
    }

    /// A scene's path over `frames` (video numbering) from its frames' results: the lines the scene
    /// method recorded (`FrameInversion.segment`; two frames of a segment define its line, so a range
    /// that starts or ends inside a segment follows it too), with any frame on no line (a transition
    /// frame) a point the path passes through. Frames of the per-frame methods carry no segments:
    /// their path is the straight line from the first frame to the last. Reads only the frames it
    /// needs (two a segment); nil when one of them is missing.
    public init?(scene frames: ClosedRange<Int>, frame: (Int) -> FrameInversion?) {
        guard let first = frame(frames.lowerBound), let last = frame(frames.upperBound) else { return nil }
        if first.segment == nil && last.segment == nil {
            self.init(from: frames.lowerBound, first, to: frames.upperBound, last)
            return
        }
        var pieces: [Segment] = []
        var i = frames.lowerBound
        while i <= frames.upperBound {
            guard let a = i == frames.lowerBound ? first : frame(i) else { return nil }
            let end = a.segment.map { $0.contains(i) ? min($0.upperBound, frames.upperBound) : i } ?? i
            guard let b = end == i ? a : end == frames.upperBound ? last : frame(end) else { return nil }
            pieces.append(Segment(frames: i...end, line: LatentLine(start: a.ws, end: b.ws), noise: a.noise))
            i = end + 1
        }
        self.init(segments: pieces)
    }

    public var firstFrame: Int { segments[0].frames.lowerBound }
    public var lastFrame: Int { segments[segments.count - 1].frames.upperBound }

    /// The frame position at `t` over the whole path.
    public func framePosition(at t: Double) -> Double {
        Double(firstFrame) + t * Double(lastFrame - firstFrame)
    }

    /// The latent [num_ws, w_dim] at frame position `x`.
    public func latent(atFrame x: Double) -> Tensor {
        let (line, t, _) = place(x)
        return line.latent(at: t)
    }

    /// The latent at `t` over the whole path.
    public func latent(at t: Double) -> Tensor { latent(atFrame: framePosition(at: t)) }

    /// What renders frame position `x`: its latent with its segment's noise maps.
    public func inversion(atFrame x: Double) -> FrameInversion {
        let (line, t, noise) = place(x)
        return FrameInversion(ws: line.latent(at: t), noise: noise, lossHistory: [], finalLoss: .nan, evaluations: 0)
    }

    public func inversion(at t: Double) -> FrameInversion { inversion(atFrame: framePosition(at: t)) }

    /// The line `x` lies on and its t there. Before the first segment and after the last, the end
    /// segments extrapolate; between two, the bridge from one's end to the next one's start.
    private func place(_ x: Double) -> (LatentLine, Float, [Tensor]?) {
        func along(_ lo: Int, _ hi: Int) -> Float {
            // For a whole frame this is the correctly rounded quotient the scene method used.
            hi == lo ? 0 : Float((x - Double(lo)) / Double(hi - lo))
        }
        var k = 0
        while k + 1 < segments.count, x >= Double(segments[k + 1].frames.lowerBound) { k += 1 }
        let s = segments[k]
        if x > Double(s.frames.upperBound), k + 1 < segments.count {
            let next = segments[k + 1]
            let bridge = LatentLine(start: s.line.end, end: next.line.start)
            return (bridge, along(s.frames.upperBound, next.frames.lowerBound), s.noise)
        }
        return (s.line, along(s.frames.lowerBound, s.frames.upperBound), s.noise)
    }
}
