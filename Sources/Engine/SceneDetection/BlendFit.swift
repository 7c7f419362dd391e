/// The test that tells a dissolve or a fade from motion: are the frames between P and Q mixes of
/// the two?
///
/// Each in-between frame u is fitted as (1 - alpha) * A(u) + alpha * B(u) by least squares, where
/// A(u) is frame P carried forward along shot A's motion and B(u) is frame Q carried back along
/// shot B's (both measured outside the window), so a dissolve between two panning shots fits as
/// well as one between stills. A pan, a zoom or a person walking through the frame leaves a large
/// residual; a hard cut fits, but with alpha jumping from 0 to 1 in one step. Works on the coarse
/// (level-1) planes.
struct BlendFit {
    /// alpha for each frame strictly between P and Q.
    var alphas: [Float]
    /// The largest residual, relative to the size of the change between the endpoints.
    var worstResidual: Float
    /// The change from P (carried along A's motion to Q's time) to Q: summed mean absolute
    /// difference of the coarse planes, the units of the detector threshold.
    var change: Float
    /// `MotionSearch.unexplainedByExposure` from P carried to Q's time to Q: near 0 when Q is P
    /// re-lit (a light dimming), not a new picture.
    var unexplainedByExposure: Float

    /// - Parameters:
    ///   - frames: P, the frames between, Q.
    ///   - motionA, motionB: each shot's motion per frame, in coarse pixels.
    ///   - minChange: gives up unless the endpoints differ by this much once motion is allowed for.
    ///   - maxResidual: gives up as soon as a frame's residual exceeds this.
    static func fit(_ frames: [AnalysisFrame], motionA: SIMD2<Float>, motionB: SIMD2<Float>,
                    minChange: Float, maxResidual: Float) -> BlendFit? {
        let p = frames[0], q = frames[frames.count - 1]
        let steps = Float(frames.count - 1)
        let w = p.coarseWidth, h = p.coarseHeight
        // Only pixels that every shifted copy covers are compared.
        let mx = Int((max(abs(motionA.x), abs(motionB.x)) * steps).rounded(.up)) + (motionA.x == 0 && motionB.x == 0 ? 0 : 1)
        let my = Int((max(abs(motionA.y), abs(motionB.y)) * steps).rounded(.up)) + (motionA.y == 0 && motionB.y == 0 ? 0 : 1)
        guard w > 2 * mx && h > 2 * my && (w - 2 * mx) * (h - 2 * my) * 4 >= w * h else { return nil }
        let region = Region(x0: mx, x1: w - mx, y0: my, y1: h - my, width: w, height: h)

        let aAtQ = region.sample(p.coarse, shift: motionA * steps)
        let bAtP = region.sample(q.coarse, shift: -motionB * steps)
        let qInside = region.sample(q.coarse, shift: .zero)
        let pInside = region.sample(p.coarse, shift: .zero)
        // Carrying either endpoint along its own shot's motion must still leave a large change;
        // for a pan (one shot moving) one of the two comes out near zero.
        let change = min(meanAbsolute(aAtQ, qInside), meanAbsolute(pInside, bAtP)) / Float(region.count)
        guard change >= minChange else { return nil }
        var exposure = MotionSearch.ExposureSums()
        for i in 0..<region.count { exposure.add(aAtQ[i], qInside[i]) }

        let m = frames.count - 2
        var alphas = [Float](repeating: 0, count: m)
        var worst: Float = 0
        // The middle frame first: a pan or zoom fails there most clearly, so most misses stop early.
        let order = (0..<m).sorted { abs(2 * $0 - (m - 1)) < abs(2 * $1 - (m - 1)) }
        for k in order {
            let u = Float(k + 1)
            let a = region.sample(p.coarse, shift: motionA * u)
            let b = region.sample(q.coarse, shift: -motionB * (steps - u))
            let x = region.sample(frames[k + 1].coarse, shift: .zero)
            var xd: Float = 0, dd: Float = 0, xx: Float = 0
            for i in 0..<x.count {
                let xi = x[i] - a[i], di = b[i] - a[i]
                xd += xi * di; dd += di * di; xx += xi * xi
            }
            guard dd > 1e-3 else { return nil }
            let alpha = xd / dd
            let residual = (max(xx - alpha * xd, 0) / dd).squareRoot()
            if residual > maxResidual { return nil }
            alphas[k] = alpha
            worst = max(worst, residual)
        }
        return BlendFit(alphas: alphas, worstResidual: worst, change: change, unexplainedByExposure: exposure.unexplained)
    }

    private static func meanAbsolute(_ a: [Float], _ b: [Float]) -> Float {
        var total: Float = 0
        for i in 0..<a.count { total += abs(a[i] - b[i]) }
        return total
    }

    /// The compared rectangle of the coarse planes, and bilinear sampling of shifted copies.
    private struct Region {
        var x0, x1, y0, y1, width, height: Int
        var count: Int { (x1 - x0) * (y1 - y0) }

        /// The three planes of `planes` moved by `shift` (content displacement), restricted to the region.
        func sample(_ planes: [Float], shift: SIMD2<Float>) -> [Float] {
            var out = [Float](repeating: 0, count: 3 * count)
            planes.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    var k = 0
                    if shift == .zero {
                        for c in 0..<3 {
                            for y in y0..<y1 {
                                let row = c * width * height + y * width
                                for x in x0..<x1 { dst[k] = src[row + x]; k += 1 }
                            }
                        }
                        return
                    }
                    let fx = -shift.x, fy = -shift.y
                    let ix = Int(fx.rounded(.down)), iy = Int(fy.rounded(.down))
                    let tx = fx - Float(ix), ty = fy - Float(iy)
                    for c in 0..<3 {
                        let plane = c * width * height
                        for y in y0..<y1 {
                            let sy0 = min(max(y + iy, 0), height - 1), sy1 = min(max(y + iy + 1, 0), height - 1)
                            for x in x0..<x1 {
                                let sx0 = min(max(x + ix, 0), width - 1), sx1 = min(max(x + ix + 1, 0), width - 1)
                                let top = src[plane + sy0 * width + sx0] * (1 - tx) + src[plane + sy0 * width + sx1] * tx
                                let bottom = src[plane + sy1 * width + sx0] * (1 - tx) + src[plane + sy1 * width + sx1] * tx
                                dst[k] = top * (1 - ty) + bottom * ty
                                k += 1
                            }
                        }
                    }
                }
            }
            return out
        }
    }
}
