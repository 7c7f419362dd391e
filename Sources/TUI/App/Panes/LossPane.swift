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
        let perFrame = (0..<state.frameCount).map { $0 < state.frameLoss.count ? state.frameLoss[$0] : .nan }
        plot(perFrame, title: "final loss per frame", cursor: state.cursor, firstIndex: 0,
             empty: state.engine.isInverting ? "no frame finished yet" : "no inversion yet: press r", into: &grid, rect: bottom, glyphs: glyphs)
    }

    private func plot(_ raw: [Double], title: String, cursor: Int?, firstIndex: Int, empty: String,
                      into grid: inout CellGrid, rect: Rect, glyphs: Glyphs) {
        guard !rect.isEmpty else { return }
        grid.write(title, in: rect, style: .bold, glyphs: glyphs)
        let area = rect.inset(top: 1)
        let values = state.logScale ? raw.map { $0 > 0 ? log10($0) : .nan } : raw
        guard values.contains(where: \.isFinite) else {
            PaneBox.explain(empty, in: area, into: &grid, glyphs: glyphs)
            return
        }
        BrailleChart(values: values, cursor: cursor, style: BrailleChart.style(unicode: capabilities.unicode),
                     color: .cyan, firstIndexLabel: firstIndex, glyphs: glyphs).render(into: &grid, rect: area)
    }
}
