import Foundation

/// Two plots: the loss over optimisation steps for what is being inverted (or was, for the frame
/// under the cursor), and every frame's final loss across the clip with the cursor marked.
struct LossPane {
    let state: AppState
    let capabilities: TerminalCapabilities
    let focused: Bool

    func render(into grid: inout CellGrid, rect: Rect) {
        let glyphs = capabilities.glyphs
        PaneBox.draw(rect, title: state.logScale ? "loss (log10)" : "loss", focused: focused, into: &grid, glyphs: glyphs)
        let inner = rect.inset(by: 1)
        guard inner.height >= 2 else { return }
        let (top, bottom) = inner.splitTop(inner.height / 2)
        let stepsTitle = state.lossHistoryLabel.isEmpty ? "per step" : "per step \(glyphs.separator) \(state.lossHistoryLabel)"
        plot(state.lossHistory, title: stepsTitle, cursor: nil, firstIndex: 1,
             empty: state.hasInversion ? "no steps recorded for this frame" : state.engine.isInverting ? "waiting for the first step" : "no inversion yet: press r",
             into: &grid, rect: top, glyphs: glyphs)
        // The timeline's frames: each frame while they are few enough to draw one by one (the chart
        // costs what it draws, a few thousand values at most), else a value a plot slot (the slot's
        // worst frame, from the loss summary), so a film draws as fast as a clip.
        let window = state.timelineWindow
        let empty = state.engine.isInverting ? "no frame finished yet" : "no inversion yet: press r"
        if window.count <= Self.framesDrawnOneByOne {
            let perFrame = window.map { $0 < state.frameLoss.count ? state.frameLoss[$0] : .nan }
            let cursor = window.contains(state.cursor) ? state.cursor - window.lowerBound : nil
            plot(perFrame, title: "final loss per frame", cursor: cursor, firstIndex: window.lowerBound, empty: empty, into: &grid, rect: bottom, glyphs: glyphs)
            return
        }
        let slots = max(1, min(window.count, max(1, bottom.width - 8) * (capabilities.unicode ? 2 : 1)))
        let perSlot = (0..<slots).map { k in
            let a = window.lowerBound + k * window.count / slots, b = window.lowerBound + max(k * window.count / slots + 1, (k + 1) * window.count / slots)
            return state.frameLoss.max(in: a..<min(b, window.upperBound)) ?? .nan
        }
        let cursorSlot = window.contains(state.cursor) ? (state.cursor - window.lowerBound) * slots / max(1, window.count) : nil
        let cursorLoss = state.cursor < state.frameLoss.count ? state.frameLoss[state.cursor] : .nan
        let labels = (first: window.lowerBound, last: window.upperBound - 1, cursor: Optional("\(state.cursor): \(NumberText.compact(cursorLoss))"))
        plot(perSlot, title: "final loss per frame", cursor: cursorSlot, firstIndex: 0, labels: labels, empty: empty, into: &grid, rect: bottom, glyphs: glyphs)
    }

    /// Up to this many frames the per-frame plot draws every frame.
    static let framesDrawnOneByOne = 4096

    private func plot(_ raw: [Double], title: String, cursor: Int?, firstIndex: Int, labels: (first: Int, last: Int, cursor: String?)? = nil,
                      empty: String, into grid: inout CellGrid, rect: Rect, glyphs: Glyphs) {
        guard !rect.isEmpty else { return }
        grid.write(title, in: rect, style: .bold, glyphs: glyphs)
        let area = rect.inset(top: 1)
        let values = state.logScale ? raw.map { $0 > 0 ? log10($0) : .nan } : raw
        guard values.contains(where: \.isFinite) else {
            PaneBox.explain(empty, in: area, into: &grid, glyphs: glyphs)
            return
        }
        var chart = BrailleChart(values: values, cursor: cursor, style: BrailleChart.style(unicode: capabilities.unicode),
                                 color: .cyan, firstIndexLabel: firstIndex, glyphs: glyphs)
        chart.summaryLabels = labels
        chart.render(into: &grid, rect: area)
    }
}
