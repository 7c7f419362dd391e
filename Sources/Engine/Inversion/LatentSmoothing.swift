/// `smooth`: the cheap baseline. Filters per-frame latents over time with the 5-tap kernel
/// [0.25, 0.75, 1, 0.75, 0.25] / 3 inside each scene (never across a cut); at a scene's ends the
/// kernel is renormalised over the taps that exist.
public enum LatentSmoothing {
    public static let kernel: [Float] = [0.25, 0.75, 1, 0.75, 0.25].map { $0 / 3 }

    /// ws per frame [num_ws, w_dim]; `scenes` are frame ranges (frames outside every scene stay as they are).
    public static func smooth(_ ws: [Tensor], scenes: [Range<Int>]) -> [Tensor] {
        var out = ws
        for scene in scenes {
            for t in scene { out[t] = smoothed(at: t, scene: scene) { ws[$0] } }
        }
        return out
    }

    /// Frame t's filtered latent [num_ws, w_dim] within `scene` (which holds t), reading its
    /// neighbours (t - 2 ... t + 2, those in the scene) through `ws`: a run can filter a frame at a
    /// time from its saved frames without holding the scene.
    public static func smoothed(at t: Int, scene: Range<Int>, ws: (Int) throws -> Tensor) rethrows -> Tensor {
        var acc = Tensor(zeros: try ws(t).shape)
        var weight: Float = 0
        for (k, c) in kernel.enumerated() {
            let u = t + k - 2
            guard scene.contains(u) else { continue }
            weight += c
            let w = try ws(u)
            acc.withUnsafeMutableBufferPointer { a in
                w.withUnsafeBufferPointer { w in for i in 0..<a.count { a[i] += c * w[i] } }
            }
        }
        acc.withUnsafeMutableBufferPointer { a in for i in 0..<a.count { a[i] /= weight } }
        return acc
    }

    /// The frames with their latents smoothed (noise maps and histories kept).
    public static func smooth(_ frames: [FrameInversion], scenes: [Range<Int>]) -> [FrameInversion] {
        zip(frames, smooth(frames.map(\.ws), scenes: scenes)).map { f, w in
            var g = f
            g.ws = w
            return g
        }
    }
}
