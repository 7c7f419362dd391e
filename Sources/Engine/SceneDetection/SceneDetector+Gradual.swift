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
            guard MotionSearch.coarseDifference(start, end) >= threshold else { continue }
            // ...each end must be a clean frame of its shot, not itself the far side of a jump...
            if curve[p] >= threshold || (q + 1 < n && curve[q + 1] >= threshold) { continue }
            // ...and no single step inside may carry half the change (that is a hard cut).
            var largest: Float = 0
            for u in (p + 1)...q { largest = max(largest, curve[u]) }
            guard largest < max(0.5 * MotionSearch.coarseDifference(start, end), threshold) else { continue }

            let frames = (p...q).map { frame($0) }
            guard let fit = BlendFit.fit(frames, motionA: motion(before: p), motionB: motion(after: q),
                                         minChange: threshold, maxResidual: maxResidual),
                  let mixed = mixedFrames(fit.alphas, p: p) else { continue }
            addCandidate(BlendCandidate(p: p, q: q, first: mixed.lowerBound, last: mixed.upperBound,
                                        score: fit.change, before: start, after: end))
        }
    }

    /// The frames a blend's alphas call mixed, if the alphas rise like a transition's: from about 0
    /// to about 1, never falling back, never jumping more than half the way in one frame.
    private func mixedFrames(_ alphas: [Float], p: Int) -> ClosedRange<Int>? {
        var previous: Float = 0
        for a in alphas + [1] {
            if a < -0.15 || a > 1.15 || a < previous - 0.1 || a - previous > 0.5 { return nil }
            previous = max(previous, a)
        }
        guard let first = alphas.firstIndex(where: { $0 > 0.05 }),
              let last = alphas.lastIndex(where: { $0 < 0.95 }),
              last > first else { return nil }
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

    /// Clusters no later window can reach give up their best candidates: the largest change first,
    /// then any other that does not overlap a chosen one (a fade out and the fade in after it).
    mutating func closeClusters(final: Bool) {
        let reach = nextWindowEnd - maxWindow - 1
        var closing: [BlendCluster] = []
        clusters.removeAll { cluster in
            guard final || cluster.maxQ < reach else { return false }
            closing.append(cluster)
            return true
        }
        for cluster in closing {
            let ranked = cluster.candidates.sorted {
                $0.score != $1.score ? $0.score > $1.score : ($0.last - $0.first) < ($1.last - $1.first)
            }
            var chosen: [BlendCandidate] = []
            for c in ranked where !chosen.contains(where: { c.first <= $0.last + 1 && $0.first <= c.last + 1 }) {
                chosen.append(c)
            }
            for c in chosen {
                add(TransitionEvent(shape: .ramp, first: c.first, last: c.last, score: c.score, before: c.before, after: c.after))
            }
        }
    }
}
