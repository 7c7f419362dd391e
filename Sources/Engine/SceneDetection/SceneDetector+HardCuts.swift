extension SceneDetector {
    /// Is frame `c` the first of a new shot, the change happening in one frame?
    mutating func testHardCut(at c: Int) {
        let n = curve.count
        let d = curve[c]
        guard d >= threshold else { return }
        // Adaptive: the jump must stand out from the frames around it, as a cut does and fast motion
        // (where every frame differs a lot) does not.
        let around = [c - 2, c - 1, c + 1, c + 2].filter { $0 >= 1 && $0 < n }.map { curve[$0] }
        if !around.isEmpty {
            let mean = around.reduce(0, +) / Float(around.count)
            guard d >= ratio * mean else { return }
        }
        // A flash: the old picture comes back within the flash time (checked from both ends, so
        // the jump into the flash and the jump out of it are both dismissed).
        let similar = min(0.35 * d, threshold)
        let old = frame(c - 1), new = frame(c)
        for j in 1...flashFrames where c + j < n {
            if MotionSearch.match(old, frame(c + j)).difference < similar { return }
        }
        for j in 1...flashFrames where c - 1 - j >= 0 {
            if MotionSearch.match(new, frame(c - 1 - j)).difference < similar { return }
        }
        // A light switched on: the new frame is the old one brighter. Real cuts leave a third or more
        // of the change unexplained by exposure; a re-lit frame, a few percent. (A cut to or from a
        // flat frame is exposure-explained too, and is a real boundary: fades are built from them.)
        let shift = shifts[c]
        if !old.isFlat && !new.isFlat && MotionSearch.unexplainedByExposure(old, new, dx: Int(shift.x.rounded()), dy: Int(shift.y.rounded())) < 0.15 { return }
        add(TransitionEvent(shape: .step, first: c, last: c, score: d, before: old, after: new))
    }

    /// Adds a settled event in order of position. A hard cut inside a dissolve or fade of three or
    /// more frames belongs to it; a "dissolve" of one or two frames around a hard cut is that cut.
    mutating func add(_ event: TransitionEvent) {
        if event.shape == .ramp {
            let overlapping = events.indices.filter {
                events[$0].shape == .step && events[$0].first >= event.first - 1 && events[$0].first <= event.last + 1
            }
            if !overlapping.isEmpty {
                if event.last - event.first + 1 < 3 { return }
                for i in overlapping.reversed() { events.remove(at: i) }
            }
        }
        let at = events.firstIndex { $0.first > event.first } ?? events.count
        events.insert(event, at: at)
    }
}
