import Engine

/// Scenes are the ranges between cuts (the engine's `SceneList`); cut edits keep `cuts` sorted and note what they touched.
extension AppState {
    /// The scenes as frame ranges, in order, covering 0..<frameCount.
    public var scenes: [Range<Int>] {
        guard frameCount > 0 else { return [] }
        return SceneList(cuts: cuts, frames: frameCount).scenes.map(\.frames)
    }

    /// The index of the scene containing `frame`.
    public func sceneIndex(containing frame: Int) -> Int {
        // Cuts are sorted and none is at frame 0: count those at or before `frame` by binary search
        // (the timeline asks once a column, and a film has thousands of cuts).
        var lo = 0, hi = cuts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if cuts[mid].frame <= frame { lo = mid + 1 } else { hi = mid }
        }
        return lo - cuts[..<lo].prefix { $0.frame <= 0 }.count
    }

    /// The scene containing `frame`.
    public func scene(containing frame: Int) -> Range<Int> {
        let all = scenes
        guard !all.isEmpty else { return 0..<0 }
        return all[min(all.count - 1, sceneIndex(containing: frame))]
    }

    /// Adds a hard cut at the cursor, or removes the cut that is there. Frame 0 starts the clip and
    /// cannot be a cut.
    public mutating func toggleCutAtCursor() {
        guard frameCount > 1, cursor > 0, cursor < frameCount else {
            message = "frame 0 starts the clip; it cannot be a cut"
            return
        }
        let affected = scene(containing: cursor)
        if let i = cuts.firstIndex(where: { $0.frame == cursor }) {
            let before = scene(containing: cursor - 1)
            cuts.remove(at: i)
            touch(before.lowerBound..<affected.upperBound)
            message = "removed the cut at frame \(cursor)"
        } else {
            cuts.append(SceneCut(frame: cursor, fps: fps))
            cuts.sort { $0.frame < $1.frame }
            touch(affected)
            message = "cut added at frame \(cursor)"
        }
    }

    /// Moves the cut nearest the cursor one frame left (-1) or right (+1), staying between its
    /// neighbours; the cursor follows so repeated presses keep moving the same cut.
    public mutating func moveNearestCut(by delta: Int) {
        guard let i = cuts.indices.min(by: { abs(cuts[$0].frame - cursor) < abs(cuts[$1].frame - cursor) }) else {
            message = "no cuts to move"
            return
        }
        let old = cuts[i].frame
        let new = old + delta
        let lower = i > 0 ? cuts[i - 1].frame : 0
        let upper = i + 1 < cuts.count ? cuts[i + 1].frame : frameCount
        guard new > lower, new < upper else {
            message = "the cut at frame \(old) cannot move further"
            return
        }
        let before = scene(containing: old - 1), after = scene(containing: old)
        // A gradual transition moves whole: its span goes with its frame.
        cuts[i].frame = new
        cuts[i].time = Double(new) / fps
        cuts[i].span = (cuts[i].span.lowerBound + delta)...(cuts[i].span.upperBound + delta)
        touch(before.lowerBound..<after.upperBound)
        cursor = new
        message = "moved the cut from frame \(old) to \(new)"
    }

    /// Adds a frame range to `touchedFrames`, merging overlapping and adjacent ranges.
    mutating func touch(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        var merged = range
        var rest: [Range<Int>] = []
        for r in touchedFrames {
            if r.upperBound >= merged.lowerBound && r.lowerBound <= merged.upperBound {
                merged = min(r.lowerBound, merged.lowerBound)..<max(r.upperBound, merged.upperBound)
            } else {
                rest.append(r)
            }
        }
        touchedFrames = (rest + [merged]).sorted { $0.lowerBound < $1.lowerBound }
    }

    /// The scenes (current cuts) that overlap a touched range: what `r` re-inverts.
    public var touchedScenes: [Range<Int>] {
        scenes.filter { scene in touchedFrames.contains { $0.overlaps(scene) } }
    }

    /// The knots in `frames`, by binary search: the timeline asks once a column and the scrubber once
    /// a redraw, so neither costs time in proportion to a film's knots.
    func knots(in frames: Range<Int>) -> ArraySlice<Int> {
        func firstAtOrAfter(_ f: Int) -> Int {
            var lo = 0, hi = knots.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if knots[mid] < f { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        guard !frames.isEmpty else { return [] }
        return knots[firstAtOrAfter(frames.lowerBound)..<firstAtOrAfter(frames.upperBound)]
    }

    /// Whether a knot lies in `frames`.
    public func hasKnot(in frames: Range<Int>) -> Bool { !knots(in: frames).isEmpty }

    /// The knots between frames `a` and `b` (either order), as t along the path from a to b: the
    /// scrubber marks them on its track.
    public func knotPositions(from a: Int, to b: Int) -> [Double] {
        guard a != b else { return [] }
        return knots(in: (min(a, b) + 1)..<max(a, b)).map { Double($0 - a) / Double(b - a) }
    }
}
