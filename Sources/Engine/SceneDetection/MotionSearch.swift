/// Frame differences that forgive camera motion.
///
/// The difference between two frames is the smallest, over whole-pixel shifts of up to `radius`
/// in each direction, of the mean absolute difference of the overlapping parts, summed over Y, Cb
/// and Cr. A pan then costs little while a cut costs as much as ever, which is what lets one
/// threshold separate them. The best shift, refined to a fraction of a pixel, is the frame's motion,
/// used to extrapolate shots through a dissolve.
enum MotionSearch {
    struct Match {
        /// Summed mean absolute difference at the best shift, 0-255 scale per plane.
        var difference: Float
        /// How far the content moved from the first frame to the second, in level-0 pixels.
        var shift: SIMD2<Float>
    }

    static func match(_ a: AnalysisFrame, _ b: AnalysisFrame, radius: Int = 2) -> Match {
        let side = 2 * radius + 1
        var costs = [Float](repeating: .infinity, count: side * side)
        // No shift first: for most frames it wins, and every other shift can then stop as soon as
        // its partial sum shows it cannot (costs of losing shifts are left as infinity).
        var best = (cost: difference(a, b, dx: 0, dy: 0), dx: 0, dy: 0)
        costs[radius * side + radius] = best.cost
        for dy in -radius...radius {
            for dx in -radius...radius where dx != 0 || dy != 0 {
                // A tiny preference for small shifts settles ties (flat frames match at any shift).
                let penalty = 0.01 * Float(abs(dx) + abs(dy))
                let cost = difference(a, b, dx: dx, dy: dy, giveUpAbove: best.cost - penalty)
                costs[(dy + radius) * side + (dx + radius)] = cost
                if cost + penalty < best.cost { best = (cost + penalty, dx, dy) }
            }
        }
        func cost(_ dx: Int, _ dy: Int) -> Float {
            let i = (dy + radius) * side + (dx + radius)
            if costs[i] == .infinity { costs[i] = difference(a, b, dx: dx, dy: dy) }
            return costs[i]
        }
        let centre = cost(best.dx, best.dy)
        return Match(difference: centre, shift: subpixel(a, b, dx: best.dx, dy: best.dy))
    }

    /// The shift that best maps `a` onto `b`, refined from whole pixels (dx, dy) to a fraction of a
    /// pixel by two Gauss-Newton steps on the squared difference (Lucas-Kanade), with the mean of
    /// both frames' gradients (which halves the linearisation error).
    ///
    /// Why not a parabola through the best whole-pixel cost and its neighbours, as this was:
    /// absolute differences make a V, not a parabola, and the vertex of a parabola through a V is
    /// pulled towards or away from the whole pixel, on every frame alike, so averaging frames does
    /// not remove it. A dissolve carries each shot's motion over 10 to 75 frames: 0.1 pixel a
    /// frame becomes several pixels, and the blend of two moving shots no longer fits.
    static func subpixel(_ a: AnalysisFrame, _ b: AnalysisFrame, dx: Int, dy: Int) -> SIMD2<Float> {
        let w = a.width, h = a.height
        // Pixels whose shifted position, with a margin for the fraction and the gradient, stays
        // inside `b` (and whose own gradient stays inside `a`).
        let x0 = max(1, 2 - dx), x1 = min(w - 1, w - 2 - dx)
        let y0 = max(1, 2 - dy), y1 = min(h - 1, h - 2 - dy)
        guard x0 < x1 && y0 < y1 else { return SIMD2(Float(dx), Float(dy)) }
        var delta = SIMD2<Float>.zero
        a.planes.withUnsafeBufferPointer { pa in
            b.planes.withUnsafeBufferPointer { pb in
                for _ in 0..<2 {
                    let ix = Int(delta.x.rounded(.down)), iy = Int(delta.y.rounded(.down))
                    let tx = delta.x - Float(ix), ty = delta.y - Float(iy)
                    var gxx: Float = 0, gxy: Float = 0, gyy: Float = 0, gxr: Float = 0, gyr: Float = 0
                    // Luma only (the first plane): it carries nearly all of the texture that fixes a
                    // shift, and this runs on every frame.
                    for y in y0..<y1 {
                        for x in x0..<x1 {
                            // b at (x + dx + delta.x, y + dy + delta.y), bilinear, and its gradient.
                            let q = (y + dy + iy) * w + x + dx + ix
                            let v00 = pb[q], v10 = pb[q + 1], v01 = pb[q + w], v11 = pb[q + w + 1]
                            let top = v00 + (v10 - v00) * tx, bottom = v01 + (v11 - v01) * tx
                            let value = top + (bottom - top) * ty
                            let bgx = (v10 - v00) * (1 - ty) + (v11 - v01) * ty, bgy = bottom - top
                            let r = y * w + x
                            let gx = 0.5 * (0.5 * (pa[r + 1] - pa[r - 1]) + bgx)
                            let gy = 0.5 * (0.5 * (pa[r + w] - pa[r - w]) + bgy)
                            let residual = pa[r] - value
                            gxx += gx * gx; gxy += gx * gy; gyy += gy * gy
                            gxr += gx * residual; gyr += gy * residual
                        }
                    }
                    // A flat picture (or one with stripes in a single direction) fixes no shift.
                    let det = gxx * gyy - gxy * gxy
                    guard det > 1e-6 * max(gxx * gyy, 1e-12) else { return }
                    let step = SIMD2((gyy * gxr - gxy * gyr) / det, (gxx * gyr - gxy * gxr) / det)
                    delta = (delta + step).clamped(lowerBound: SIMD2(repeating: -0.9), upperBound: SIMD2(repeating: 0.9))
                }
            }
        }
        return SIMD2(Float(dx), Float(dy)) + delta
    }

    /// Summed mean |a(x, y) - b(x + dx, y + dy)| over the overlap, Y + Cb + Cr; infinity as soon as
    /// the sum is sure to exceed `giveUpAbove`.
    static func difference(_ a: AnalysisFrame, _ b: AnalysisFrame, dx: Int, dy: Int, giveUpAbove limit: Float = .infinity) -> Float {
        let w = a.width, h = a.height, n = w * h
        let x0 = max(0, -dx), x1 = min(w, w - dx)
        let y0 = max(0, -dy), y1 = min(h, h - dy)
        guard x0 < x1 && y0 < y1 else { return .infinity }
        let area = Float((x1 - x0) * (y1 - y0))
        let budget = limit * area
        var total: Float = 0
        a.planes.withUnsafeBufferPointer { pa in
            b.planes.withUnsafeBufferPointer { pb in
                // Row by row across the three planes, so that a losing shift is caught early.
                for y in y0..<y1 {
                    for c in 0..<3 {
                        let ra = c * n + y * w, rb = c * n + (y + dy) * w + dx
                        var row: Float = 0
                        for x in x0..<x1 { row += abs(pa[ra + x] - pb[rb + x]) }
                        total += row
                    }
                    if total > budget { total = .infinity; return }
                }
            }
        }
        return total / area
    }

    /// Summed mean absolute difference of the coarse planes, no shift: the raw change between two
    /// distant frames.
    static func coarseDifference(_ a: AnalysisFrame, _ b: AnalysisFrame) -> Float {
        var total: Float = 0
        a.coarse.withUnsafeBufferPointer { pa in
            b.coarse.withUnsafeBufferPointer { pb in
                for i in 0..<pa.count { total += abs(pa[i] - pb[i]) }
            }
        }
        return total / Float(a.coarseWidth * a.coarseHeight)
    }

    /// How much of the luma change from `a` to `b` (shifted by dx, dy) a change of brightness and
    /// contrast cannot explain: the residual of the best fit b = gain * a + offset, relative to the
    /// change itself (both RMS). Near 0 when `b` is `a` re-lit (a light dimmed or switched on, an
    /// exposure change), near 1 or above for a different picture.
    static func unexplainedByExposure(_ a: AnalysisFrame, _ b: AnalysisFrame, dx: Int = 0, dy: Int = 0) -> Float {
        let w = a.width, h = a.height
        let x0 = max(0, -dx), x1 = min(w, w - dx)
        let y0 = max(0, -dy), y1 = min(h, h - dy)
        guard x0 < x1 && y0 < y1 else { return 1 }
        var sums = ExposureSums()
        a.planes.withUnsafeBufferPointer { pa in
            b.planes.withUnsafeBufferPointer { pb in
                for y in y0..<y1 {
                    let ra = y * w, rb = (y + dy) * w + dx
                    for x in x0..<x1 { sums.add(pa[ra + x], pb[rb + x]) }
                }
            }
        }
        return sums.unexplained
    }

    /// Running sums for fitting b = gain * a + offset by least squares.
    struct ExposureSums {
        var n: Float = 0, sa: Float = 0, sb: Float = 0, saa: Float = 0, sbb: Float = 0, sab: Float = 0

        @inline(__always)
        mutating func add(_ a: Float, _ b: Float) {
            n += 1; sa += a; sb += b; saa += a * a; sbb += b * b; sab += a * b
        }

        var unexplained: Float {
            guard n > 0 else { return 1 }
            let va = saa - sa * sa / n, vb = sbb - sb * sb / n, cov = sab - sa * sb / n
            // Residual sum of squares of the regression of b on a.
            let residual = va > 1e-6 ? max(vb - cov * cov / va, 0) : max(vb, 0)
            // Sum of squares of the change b - a itself.
            let change = max(saa + sbb - 2 * sab, 0)
            guard change > 1e-6 else { return 0 }
            return (residual / change).squareRoot()
        }
    }
}
