extension SceneDetector {
    /// The first frame a future event could start at: events before it are final.
    private func frontier(final: Bool) -> Int {
        if final { return Int.max }
        var f = min(nextCut - 1, nextWindowEnd - maxWindow - 1)
        for cluster in clusters { f = min(f, cluster.minP) }
        return f - 2
    }

    /// Turns final events into cuts: chains through flat frames, drops boundaries with no shot on one
    /// side, spaces cuts by the minimum scene length.
    mutating func settle(final: Bool) {
        let limit = frontier(final: final)
        while let event = events.first, event.frameBefore < limit {
            events.removeFirst()
            if var open = chain {
                if let last = open.events.last, chains(last, to: event) {
                    open.events.append(event)
                    chain = open
                    continue
                }
                close(open, final: final)
            }
            chain = TransitionChain(events: [event])
        }
        if var open = chain, let last = open.events.last {
            let after = last.frameAfter
            // The first picture after the flat run, scanning on from where the last call stopped
            // (a long black stretch is scanned once, not once per frame).
            var picture: Int?
            var x = max(after, open.scanned)
            while x < curve.count {
                if !flat[x] { picture = x; break }
                x += 1
            }
            open.scanned = x
            chain = open
            if !flat[after] {
                // Nothing can chain onto a boundary that ends in a picture.
                close(open, final: final)
                chain = nil
            } else if let picture, picture <= limit {
                // The flat run has ended and every event that could start inside it is known.
                close(open, final: final)
                chain = nil
            } else if final {
                // Flat to the end: a fade out at the end of the video, no new shot.
                chain = nil
            }
        }
        if let pending = tentative {
            let next = min(limit, chain?.events.first?.first ?? Int.max)
            if final || next >= pending.frame + minScene {
                cuts.append(pending)
                tentative = nil
            }
        }
    }

    /// Whether `next` continues `previous` through a flat picture (fade out, black, fade in).
    private func chains(_ previous: TransitionEvent, to next: TransitionEvent) -> Bool {
        let from = previous.frameAfter, to = next.frameBefore
        guard to >= from && flat[from] else { return false }
        return (from...to).allSatisfy { flat[$0] }
    }

    /// A finished chain becomes a cut, unless it has no shot on one side or leads back to the same
    /// picture; then the minimum scene length decides between it and its neighbour.
    private mutating func close(_ chain: TransitionChain, final: Bool) {
        guard let first = chain.events.first, let last = chain.events.last else { return }
        // Nothing but flat frames before it: the video fades (or cuts) in from black; not a cut.
        if firstNonFlat.map({ $0 > first.frameBefore }) ?? true { return }
        if chain.events.count > 1 && MotionSearch.match(first.before, last.after).difference < 0.5 * threshold { return }

        let gradual = chain.events.contains { $0.shape == .ramp }
        let kind: TransitionKind
        if !gradual {
            kind = .cut
        } else if chain.events.count > 1 || flat[first.frameBefore] || flat[last.frameAfter] {
            kind = .fade
        } else {
            kind = .dissolve
        }
        let frame = gradual ? (first.first + last.last + 1) / 2 : last.first
        let score = chain.events.map(\.score).max() ?? 0
        // Three decimals are all a score means, and they survive a JSON round trip exactly.
        let cut = SceneCut(frame: frame, time: Double(frame) / fps, kind: kind, score: (Double(score) * 1000).rounded() / 1000,
                           span: first.first...last.last)
        guard cut.frame >= minScene else { return }
        if let pending = tentative {
            if cut.frame - pending.frame < minScene {
                if cut.score > pending.score { tentative = cut }
                return
            }
            cuts.append(pending)
        }
        tentative = cut
    }
}
