extension SceneDetector {
    /// Tries every window length ending at `q`: is the stretch before it a dissolve or a fade?
    mutating func testWindows(endingAt q: Int) {
        let n = curve.count
        let end = frame(q)
        for m in windowLengths {
            let p = q - m - 1
            guard p >= 0 && p > n - ring.count + 4 else { break }
            if flat[p] && flat[q] { continue }
            let start = frame(p)
            // Cheap tests first. The ends must differ as much as a cut's frames do...
            let change = MotionSearch.coarseDifference(start, end)
            guard change >= threshold else { continue }
            // ...the window must not merely hold, with clean frames on both sides, a transition
            // already found (it would find the same one again; most windows near a transition are
            // such, and skipping them is most of the speed)...
            if clusters.contains(where: { $0.candidates.contains { c in p < c.first - 1 && q > c.last + 1 && change <= 1.15 * c.score } }) {
                continue
            }
            // ...each end must be a clean frame of its shot, not itself the far side of a jump...
            if curve[p] >= threshold || (q + 1 < n && curve[q + 1] >= threshold) { continue }
            // ...and no single step inside may carry half the change (that is a hard cut).
            var largest: Float = 0
            for u in (p + 1)...q { largest = max(largest, curve[u]) }
            guard largest < max(0.5 * change, threshold) else { continue }

            let frames = (p...q).map { frame($0) }
            guard let fit = BlendFit.fit(frames, motionA: motion(before: p), motionB: motion(after: q),
                                         minChange: threshold, maxResidual: maxResidual),
                  let mixed = mixedFrames(fit.alphas, p: p) else { continue }
            addCandidate(BlendCandidate(p: p, q: q, first: mixed.lowerBound, last: mixed.upperBound,
                                        score: fit.change, exposure: fit.unexplainedByExposure, before: start, after: end))
        }
    }

    /// The frames a blend's alphas call mixed, if the alphas rise like a transition's: from about 0
    /// to about 1, never falling back, never jumping more than half the way in one frame.
    ///
    /// The ends are where a line through the clearly mixed frames (alpha 0.1 to 0.9) reaches 0 and
    /// 1, not where alpha passes a fixed level: in a two-second dissolve the first frames are only 2%
    /// mixed, below any level that noise would not also pass.
    private func mixedFrames(_ alphas: [Float], p: Int) -> ClosedRange<Int>? {
        var previous: Float = 0
        for a in alphas + [1] {
            if a < -0.15 || a > 1.15 || a < previous - 0.1 || a - previous > 0.5 { return nil }
            previous = max(previous, a)
        }
        let core = alphas.indices.filter { alphas[$0] >= 0.1 && alphas[$0] <= 0.9 }
        var first: Int, last: Int
        if core.count >= 2 {
            let n = Float(core.count)
            let mk = core.reduce(0) { $0 + Float($1) } / n
            let ma = core.reduce(0) { $0 + alphas[$1] } / n
            var sxy: Float = 0, sxx: Float = 0
            for k in core { sxy += (Float(k) - mk) * (alphas[k] - ma); sxx += (Float(k) - mk) * (Float(k) - mk) }
            guard sxx > 0, sxy > 0 else { return nil }
            let slope = sxy / sxx
            let zero = mk - ma / slope, one = mk + (1 - ma) / slope
            first = max(Int(zero.rounded()) + 1, 0)
            last = min(Int(one.rounded()) - 1, alphas.count - 1)
        } else {
            guard let f = alphas.firstIndex(where: { $0 > 0.05 }), let l = alphas.lastIndex(where: { $0 < 0.95 }) else { return nil }
            first = f
            last = l
        }
        guard last > first else { return nil }
        return (p + 1 + first)...(p + 1 + last)
    }

    /// A shot's motion per frame in coarse pixels, from the few frames before `p`...
    private func motion(before p: Int) -> SIMD2<Float> {
        averageShift(max(1, p - 3)...max(1, p))
    }

    /// ...or after `q`.
    private func motion(after q: Int) -> SIMD2<Float> {
        averageShift((q + 1)...max(q + 1, min(q + 4, curve.count - 1)))
    }

    private func averageShift(_ frames: ClosedRange<Int>) -> SIMD2<Float> {
        var sum = SIMD2<Float>.zero
        var count: Float = 0
        for u in frames where u < curve.count && u >= 1 && curve[u] < threshold && !flat[u] && !flat[u - 1] {
            sum += shifts[u]
            count += 1
        }
        // Shifts are measured on the analysis planes, fits done on the half-size ones.
        return count > 0 ? sum / count / 2 : .zero
    }

    private mutating func addCandidate(_ candidate: BlendCandidate) {
        var merged = BlendCluster(candidates: [candidate], minP: candidate.p, maxQ: candidate.q)
        clusters.removeAll { cluster in
            guard cluster.minP <= merged.maxQ && merged.minP <= cluster.maxQ else { return false }
            merged.candidates += cluster.candidates
            merged.minP = min(merged.minP, cluster.minP)
            merged.maxQ = max(merged.maxQ, cluster.maxQ)
            return true
        }
        clusters.append(merged)
    }

    /// Clusters no later window can reach become events. Candidates whose mixed frames overlap
    /// describe one transition, seen through different windows: their union is its span (a window
    /// that starts inside a dissolve sees only its end), their largest change its score. Candidates
    /// that do not overlap are separate transitions (a fade out, black, a fade in).
    ///
    /// A transition between two pictures (not a fade to a flat one) that some window explains as a
    /// change of brightness and contrast is a light dimming or an exposure change: no cut. Between
    /// different shots the part no exposure change explains is 0.35 or more (it cannot pass about 0.7,
    /// see `MotionSearch.unexplainedByExposure`); re-lit footage stays near 0.2 even with motion.
    mutating func closeClusters(final: Bool) {
        let reach = nextWindowEnd - maxWindow - 1
        var closing: [BlendCluster] = []
        clusters.removeAll { cluster in
            guard final || cluster.maxQ < reach else { return false }
            closing.append(cluster)
            return true
        }
        for cluster in closing {
            var groups: [BlendCandidate] = []
            for c in cluster.candidates.sorted(by: { $0.first < $1.first }) {
                if var g = groups.last, c.first <= g.last + 1 {
                    if c.score > g.score { (g.score, g.before, g.after) = (c.score, c.before, c.after) }
                    g.exposure = min(g.exposure, c.exposure)
                    g.first = min(g.first, c.first)
                    g.last = max(g.last, c.last)
                    groups[groups.count - 1] = g
                } else {
                    groups.append(c)
                }
            }
            for g in groups {
                if g.exposure < relitLimit && !flat[g.first - 1] && !(g.last + 1 < curve.count && flat[g.last + 1]) { continue }
                add(TransitionEvent(shape: .ramp, first: g.first, last: g.last, score: g.score, before: g.before, after: g.after))
            }
        }
    }
}
