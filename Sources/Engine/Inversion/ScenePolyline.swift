/// A scene's path in latent space as the scene method fits it: a polyline through `vertices`, one at
/// each knot frame, continuous at every knot, with one set of noise maps for the whole scene. Frame
/// i between knots k_j and k_{j+1} is rendered from lerp(vertex j, vertex j+1, (i - k_j) / (k_{j+1} - k_j)).
/// A single line is the polyline with knots [0, n - 1].
public struct ScenePolyline: Sendable {
    /// Frame indices into the scene (0-based), increasing; the first is 0 and the last n - 1 (a
    /// one-frame scene has the single knot 0).
    public var knots: [Int]
    /// One latent [rows, w_dim] per knot.
    public var vertices: [Tensor]
    /// Per noise layer [1, R, R]; nil: the model's const noise.
    public var noise: [Tensor]?

    public init(knots: [Int], vertices: [Tensor], noise: [Tensor]?) {
        precondition(!knots.isEmpty && knots.count == vertices.count, "a polyline needs one vertex per knot")
        precondition(zip(knots, knots.dropFirst()).allSatisfy { $0 < $1 }, "knots must increase: \(knots)")
        self.knots = knots
        self.vertices = vertices
        self.noise = noise
    }

    public var frameCount: Int { knots[knots.count - 1] + 1 }

    /// The piece holding frame position `x` and the weight of its second vertex: (j, t) so that the
    /// latent is lerp(vertex j, vertex j + 1, t). Before the first knot and after the last the end
    /// pieces extrapolate.
    public func place(_ x: Float) -> (piece: Int, t: Float) {
        guard knots.count > 1 else { return (0, 0) }
        var j = 0
        while j + 2 < knots.count, x >= Float(knots[j + 1]) { j += 1 }
        let lo = knots[j], hi = knots[j + 1]
        // A whole frame's t is the correctly rounded quotient, as LatentPath computes it.
        return (j, Float((Double(x) - Double(lo)) / Double(hi - lo)))
    }

    /// The latent [rows, w_dim] at frame position `x` (fractional between frames).
    public func latent(atFrame x: Float) -> Tensor {
        let (j, t) = place(x)
        guard knots.count > 1 else { return vertices[0] }
        return LatentLine(start: vertices[j], end: vertices[j + 1]).latent(at: t)
    }

    /// A knot at frame `k` (strictly between two knots), its vertex where the path is now: the path
    /// is unchanged until the vertices move.
    public mutating func insertKnot(at k: Int) {
        precondition(!knots.contains(k) && k > knots[0] && k < knots[knots.count - 1], "knot \(k) outside \(knots)")
        let v = latent(atFrame: Float(k))
        let j = knots.firstIndex { $0 > k }!
        knots.insert(k, at: j)
        vertices.insert(v, at: j)
    }

    /// The pieces as the session stores them: frames that do not overlap, each piece from its first
    /// knot up to the frame before the next (the last piece to the scene's last frame), as a line
    /// from its first frame's latent to its last frame's. `LatentPath`'s bridge from one piece's last
    /// frame to the next piece's first runs along the same line, so the stored path is this polyline.
    public var segments: [SceneProjector.Segment] {
        guard knots.count > 1 else {
            return [SceneProjector.Segment(range: 0..<1, start: vertices[0], end: vertices[0], noise: noise)]
        }
        return (0..<(knots.count - 1)).map { j in
            let last = j == knots.count - 2 ? knots[j + 1] : knots[j + 1] - 1
            return SceneProjector.Segment(
                range: knots[j]..<(last + 1), start: vertices[j], end: latent(atFrame: Float(last)), noise: noise)
        }
    }
}
