/// The timeline's zoom: which frames it shows, and how `+ - z` and the mouse wheel change that.
extension AppState {
    /// The frames the timeline shows: all of them, or `timelineSpan` frames placed so that the
    /// cursor's scene is in view (whole when it fits, else the part around the cursor).
    public var timelineWindow: Range<Int> {
        let n = frameCount
        guard let span = timelineSpan, span < n else { return 0..<n }
        let scene = scene(containing: cursor)
        var start = scene.count <= span ? scene.lowerBound - (span - scene.count) / 2 : cursor - span / 2
        start = min(max(0, start), n - span)
        return start..<(start + span)
    }

    /// Zooms in (`d` > 0: half the frames) or out (twice the frames, up to the whole video), never
    /// closer than one frame a column.
    public mutating func zoomTimeline(_ d: Int, columns: Int) {
        let n = frameCount
        guard n > 0 else { return }
        let span = timelineSpan ?? n
        let next = d > 0 ? max(min(columns, n), span / 2) : span * 2
        timelineSpan = next >= n ? nil : next
    }

    /// The three zooms `z` goes round: the whole video, the cursor's scene with its neighbours'
    /// edges, and one frame a column.
    public mutating func cycleTimelineZoom(columns: Int) {
        let n = frameCount
        guard n > columns else {
            timelineSpan = nil
            return
        }
        let sceneSpan = min(n, max(columns, 3 * scene(containing: cursor).count))
        switch timelineSpan {
        case nil: timelineSpan = sceneSpan < n ? sceneSpan : columns
        case let s? where s > columns: timelineSpan = columns
        default: timelineSpan = nil
        }
    }

    /// What the go-to prompt's text means: a frame number ("1234"), or a time ("83.5s", "1:23",
    /// "1:02:03.5") at the video's rate. nil when it is neither.
    public func frame(goingTo text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let f = Int(t) { return f }
        var seconds: Double?
        if t.hasSuffix("s"), let s = Double(t.dropLast()), s >= 0 {
            seconds = s
        } else if t.contains(":") {
            let parts = t.split(separator: ":", omittingEmptySubsequences: false)
            guard (2...3).contains(parts.count), let last = Double(parts.last!), last >= 0, last < 60 else { return nil }
            var total = last, unit = 60.0
            for p in parts.dropLast().reversed() {
                guard let v = Int(p), v >= 0 else { return nil }
                total += Double(v) * unit
                unit *= 60
            }
            seconds = total
        }
        guard let seconds, seconds.isFinite, fps > 0 else { return nil }
        // The frame showing at that time: a small epsilon keeps 0.04 s at 25 fps on frame 1.
        return Int((seconds * fps + 1e-6).rounded(.down))
    }
}
