import Engine
import Foundation

/// Footage whose true latents are known: shots rendered by a generator itself along straight (or
/// piecewise-straight) W+ paths, with the model's const noise, so every frame is exactly reachable.
/// The recipe of issue #19: each knot is a mapped z at truncation 0.8 plus a per-element jitter of
/// 0.15 (so the layers' rows differ, as W+ allows), and a shot runs the full distance between two
/// such knots over 18 to 30 frames.
public struct GroundTruthFootage: Sendable {
    public struct Shot: Sendable {
        /// The frames' latents [F, num_ws, w_dim].
        public var ws: Tensor
        /// Where each segment of the shot's path starts (indices into the shot's frames; the first is 0).
        public var knots: [Int]
    }

    public var shots: [Shot]
    /// Every frame [F, C, R, R], shot after shot.
    public var frames: Tensor

    public var frameCount: Int { frames.shape[0] }

    /// The shots' frame ranges, in clip numbering.
    public var shotRanges: [Range<Int>] {
        var first = 0
        return shots.map { s in
            defer { first += s.ws.shape[0] }
            return first..<(first + s.ws.shape[0])
        }
    }

    /// The scene list a perfect detector gives: a hard cut at every shot's first frame.
    public var scenes: SceneList {
        let cuts = shotRanges.dropFirst().map { SceneCut(frame: $0.lowerBound, fps: 25, score: 1) }
        return SceneList(cuts: Array(cuts), frames: frameCount)
    }

    /// Every frame's true latents [F, num_ws, w_dim].
    public var ws: Tensor { Tensor.concatenate(shots.map(\.ws)) }

    /// `lengths[i]` frames in shot i; `segments[i]` straight pieces (knots spread evenly).
    public init(generator g: Generator, lengths: [Int], segments: [Int]? = nil, seed: UInt64, psi: Float = 0.8, jitter: Float = 0.15) {
        var rng = GaussianNoise(seed: seed)
        let numWs = g.config.numWs, wDim = g.config.wDim
        func knot() -> [Float] {
            let z = Tensor(shape: [1, g.config.zDim]) { p in rng.fill(p.baseAddress!, count: p.count) }
            var w = g.mapping(z, truncationPsi: psi).scalars  // [num_ws * w_dim], rows equal
            for i in w.indices { w[i] += jitter * rng.next() }
            return w
        }
        shots = lengths.enumerated().map { k, n in
            let pieces = max(1, min(segments?[k] ?? 1, n - 1))
            let knots = (0..<pieces).map { $0 * (n - 1) / pieces }
            let ends = (0...pieces).map { _ in knot() }
            let frames = (0..<n).map { i -> [Float] in
                // The piece holding frame i, and its t on that piece.
                let p = knots.lastIndex { $0 <= i }!
                let lo = knots[p], hi = p + 1 < pieces ? knots[p + 1] : n - 1
                let t = Float(i - lo) / Float(hi - lo)
                return zip(ends[p], ends[p + 1]).map { a, b in a + t * (b - a) }
            }
            return Shot(ws: Tensor(shape: [n, numWs, wDim], values: frames.flatMap { $0 }), knots: knots)
        }
        let all = Tensor.concatenate(shots.map(\.ws))
        // Rendered in batches of 8 (as a user's renders are), the model's const noise.
        var images: [Tensor] = []
        var i = 0
        while i < all.shape[0] {
            let chunk = min(8, all.shape[0] - i)
            images.append(g.synthesize(ws: all.slice(i..<(i + chunk))))
            i += chunk
        }
        frames = Tensor.concatenate(images)
    }
}
