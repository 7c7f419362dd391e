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
        var costs = [Float](repeating: 0, count: side * side)
        var best = (cost: Float.infinity, dx: 0, dy: 0)
        for dy in -radius...radius {
            for dx in -radius...radius {
                let cost = difference(a, b, dx: dx, dy: dy)
                costs[(dy + radius) * side + (dx + radius)] = cost
                // A tiny preference for small shifts settles ties (flat frames match at any shift).
                let biased = cost + 0.01 * Float(abs(dx) + abs(dy))
                if biased < best.cost { best = (biased, dx, dy) }
            }
        }
        func cost(_ dx: Int, _ dy: Int) -> Float { costs[(dy + radius) * side + (dx + radius)] }
        let centre = cost(best.dx, best.dy)
        // A parabola through the best cost and its two neighbours places the minimum between pixels.
        func refine(_ left: Float?, _ right: Float?) -> Float {
            guard let l = left, let r = right else { return 0 }
            let curvature = l - 2 * centre + r
            guard curvature > 1e-6 else { return 0 }
            return min(max(0.5 * (l - r) / curvature, -0.5), 0.5)
        }
        let fx = refine(best.dx > -radius ? cost(best.dx - 1, best.dy) : nil, best.dx < radius ? cost(best.dx + 1, best.dy) : nil)
        let fy = refine(best.dy > -radius ? cost(best.dx, best.dy - 1) : nil, best.dy < radius ? cost(best.dx, best.dy + 1) : nil)
        return Match(difference: centre, shift: SIMD2(Float(best.dx) + fx, Float(best.dy) + fy))
    }

    /// Summed mean |a(x, y) - b(x + dx, y + dy)| over the overlap, Y + Cb + Cr.
    static func difference(_ a: AnalysisFrame, _ b: AnalysisFrame, dx: Int, dy: Int) -> Float {
        let w = a.width, h = a.height, n = w * h
        let x0 = max(0, -dx), x1 = min(w, w - dx)
        let y0 = max(0, -dy), y1 = min(h, h - dy)
        guard x0 < x1 && y0 < y1 else { return .infinity }
        var total: Float = 0
        a.planes.withUnsafeBufferPointer { pa in
            b.planes.withUnsafeBufferPointer { pb in
                for c in 0..<3 {
                    for y in y0..<y1 {
                        let ra = c * n + y * w, rb = c * n + (y + dy) * w + dx
                        var row: Float = 0
                        for x in x0..<x1 { row += abs(pa[ra + x] - pb[rb + x]) }
                        total += row
                    }
                }
            }
        }
        return total / Float((x1 - x0) * (y1 - y0))
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
}
