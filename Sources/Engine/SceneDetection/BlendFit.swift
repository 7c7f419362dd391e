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
        // Each comparison uses the pixels that all of its own shifted copies cover, losing a margin
        // only on the side each copy moves from, and only as much as that copy moves. (This took
        // the largest motion over the whole window off every side, for every frame: a shot moving
        // 1.5% of the width a frame lost 40% of the width on each side over a 25-frame window,
        // under the quarter of the picture a fit needs, so long dissolves between moving shots
        // were refused outright.)
        guard let atQ = Region(covering: [motionA * steps], width: w, height: h),
              let atP = Region(covering: [-motionB * steps], width: w, height: h) else { return nil }
        let aAtQ = atQ.sample(p.coarse, shift: motionA * steps)
        let qInside = atQ.sample(q.coarse, shift: .zero)
        let bAtP = atP.sample(q.coarse, shift: -motionB * steps)
        let pInside = atP.sample(p.coarse, shift: .zero)
        // Carrying either endpoint along its own shot's motion must still leave a large change;
        // for a pan (one shot moving) one of the two comes out near zero.
        let change = min(meanAbsolute(aAtQ, qInside) / Float(atQ.count), meanAbsolute(pInside, bAtP) / Float(atP.count))
        guard change >= minChange else { return nil }
        var exposure = MotionSearch.ExposureSums()
        for i in 0..<atQ.count { exposure.add(aAtQ[i], qInside[i]) }

        let m = frames.count - 2
        var alphas = [Float](repeating: 0, count: m)
        var worst: Float = 0
        // The middle frame first: a pan or zoom fails there most clearly, so most misses stop early.
        let order = (0..<m).sorted { abs(2 * $0 - (m - 1)) < abs(2 * $1 - (m - 1)) }
        for k in order {
            let u = Float(k + 1)
            guard let region = Region(covering: [motionA * u, -motionB * (steps - u)], width: w, height: h) else { return nil }
            let a = region.sample(p.coarse, shift: motionA * u)
            let b = region.sample(q.coarse, shift: -motionB * (steps - u))
            let x = region.sample(frames[k + 1].coarse, shift: .zero)
            var xd: Float = 0, dd: Float = 0, xx: Float = 0
            for i in 0..<x.count {
                let xi = x[i] - a[i], di = b[i] - a[i]
                xd += xi * di; dd += di * di; xx += xi * xi
            }
            guard dd > 1e-3 else { return nil }
            var alpha = xd / dd
            var residual = (max(xx - alpha * xd, 0) / dd).squareRoot()
            // Each shot's motion is measured outside the window and carried across it, so the
            // in-between frames sit off the carried pictures by what that estimate misses (a shot
            // that speeds up, grass that sways): a fraction of a pixel at this scale, enough to
            // push a real dissolve past the residual limit. Let each frame shift either picture
            // by up to a pixel before calling it no blend. Frames far off are not worth the try:
            // a pixel of misalignment does not make most of the change.
            if residual > maxResidual && residual < 2.5 * maxResidual,
               let aligned = alignedFit(x, a, b, region: region, dd: dd), aligned.residual < residual {
                (alpha, residual) = (aligned.alpha, aligned.residual)
            }
            if residual > maxResidual { return nil }
            alphas[k] = alpha
            worst = max(worst, residual)
        }
        return BlendFit(alphas: alphas, worstResidual: worst, change: change, unexplainedByExposure: exposure.unexplained)
    }

    /// The blend fit of frame x between pictures a and b when each picture may also move by a
    /// fraction of a pixel: x - a = alpha (b - a) + (1 - alpha) grad(a) . sa + alpha grad(b) . sb,
    /// linear in alpha and the two weighted shifts, so one least-squares solve of five unknowns.
    /// nil when a shift comes out past a pixel, where the linearisation no longer holds.
    private static func alignedFit(_ x: [Float], _ a: [Float], _ b: [Float], region: Region, dd: Float) -> (alpha: Float, residual: Float)? {
        let rw = region.x1 - region.x0, rh = region.y1 - region.y0, plane = rw * rh
        guard rw >= 3 && rh >= 3 else { return nil }
        // Normal equations J^T J theta = J^T t over the columns d, a_x, a_y, b_x, b_y.
        var jj = [Float](repeating: 0, count: 25), jt = [Float](repeating: 0, count: 5)
        var tt: Float = 0
        var column = [Float](repeating: 0, count: 5)
        for c in 0..<3 {
            for y in 0..<rh {
                let up = y > 0 ? -rw : 0, down = y < rh - 1 ? rw : 0
                let ys: Float = (up != 0 && down != 0) ? 0.5 : 1
                for xi in 0..<rw {
                    let i = c * plane + y * rw + xi
                    let left = xi > 0 ? -1 : 0, right = xi < rw - 1 ? 1 : 0
                    let xs: Float = (left != 0 && right != 0) ? 0.5 : 1
                    let t = x[i] - a[i]
                    column[0] = b[i] - a[i]
                    column[1] = (a[i + right] - a[i + left]) * xs
                    column[2] = (a[i + down] - a[i + up]) * ys
                    column[3] = (b[i + right] - b[i + left]) * xs
                    column[4] = (b[i + down] - b[i + up]) * ys
                    for r in 0..<5 {
                        jt[r] += column[r] * t
                        for s in r..<5 { jj[r * 5 + s] += column[r] * column[s] }
                    }
                    tt += t * t
                }
            }
        }
        for r in 0..<5 { for s in 0..<r { jj[r * 5 + s] = jj[s * 5 + r] } }
        guard let theta = solve5(jj, jt) else { return nil }
        // theta[1...2] is (1 - alpha) times a's shift, theta[3...4] alpha times b's (the sign
        // is of no matter for the bound): each shot's weight in the frame times its shift.
        guard theta[1...4].allSatisfy({ abs($0) <= 1 }) else { return nil }
        var explained: Float = 0
        for r in 0..<5 { explained += theta[r] * jt[r] }
        return (theta[0], (max(tt - explained, 0) / dd).squareRoot())
    }

    /// Solves the 5x5 symmetric positive system m theta = v by Gaussian elimination with
    /// partial pivoting; nil when it is singular.
    private static func solve5(_ m: [Float], _ v: [Float]) -> [Float]? {
        var a = m, rhs = v
        for col in 0..<5 {
            var pivot = col
            for r in (col + 1)..<5 where abs(a[r * 5 + col]) > abs(a[pivot * 5 + col]) { pivot = r }
            guard abs(a[pivot * 5 + col]) > 1e-9 * max(abs(a[0]), 1) else { return nil }
            if pivot != col {
                for k in 0..<5 { a.swapAt(col * 5 + k, pivot * 5 + k) }
                rhs.swapAt(col, pivot)
            }
            for r in (col + 1)..<5 {
                let f = a[r * 5 + col] / a[col * 5 + col]
                for k in col..<5 { a[r * 5 + k] -= f * a[col * 5 + k] }
                rhs[r] -= f * rhs[col]
            }
        }
        var out = [Float](repeating: 0, count: 5)
        for r in stride(from: 4, through: 0, by: -1) {
            var sum = rhs[r]
            for k in (r + 1)..<5 { sum -= a[r * 5 + k] * out[k] }
            out[r] = sum / a[r * 5 + r]
        }
        return out
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

        /// The pixels whose samples under every one of `shifts` (content displacements) fall inside
        /// the picture, whole-pixel neighbours for the bilinear weights included; nil when that is
        /// under a quarter of the picture, too little to tell a blend from anything else.
        init?(covering shifts: [SIMD2<Float>], width: Int, height: Int) {
            // A copy moved by s reads the source at x - s: x must be at least s, and x - s + 1 at
            // most the last pixel.
            func margins(_ s: Float) -> (low: Int, high: Int) {
                (s > 0 ? Int(s.rounded(.up)) : 0, s < 0 ? Int((-s).rounded(.down)) + 1 : 0)
            }
            var x0 = 0, x1 = width, y0 = 0, y1 = height
            for s in shifts {
                let mx = margins(s.x), my = margins(s.y)
                x0 = max(x0, mx.low); x1 = min(x1, width - mx.high)
                y0 = max(y0, my.low); y1 = min(y1, height - my.high)
            }
            guard x1 > x0 && y1 > y0 && (x1 - x0) * (y1 - y0) * 4 >= width * height else { return nil }
            (self.x0, self.x1, self.y0, self.y1, self.width, self.height) = (x0, x1, y0, y1, width, height)
        }

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
