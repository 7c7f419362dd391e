/// The top row: what is open (video, model, method) on the left, the engine's state on the right.
struct HeaderBar {
    let state: AppState
    let glyphs: Glyphs

    func render(into grid: inout CellGrid, rect: Rect) {
        guard !rect.isEmpty else { return }
        let bar = CellStyle(background: .indexed(236))
        grid.fill(rect, style: bar)
        let engine = engineText
        let engineStyle: CellStyle = state.engine.error != nil ? bar.with(foreground: .red).adding(.bold)
            : state.engine.paused ? bar.with(foreground: .yellow) : bar
        let right = CellGrid.truncate(engine, to: rect.width / 2, ellipsis: glyphs.ellipsis)
        let rightWidth = DisplayWidth.of(right)
        grid.write(right, x: rect.maxX - rightWidth - 1, y: rect.y, style: engineStyle, clip: rect)
        let sep = " \(glyphs.vertical) "
        let method = [state.method?.rawValue, state.space?.label].compactMap { $0 }.joined(separator: " ")
        let parts = [state.videoName, state.modelName, method].filter { !$0.isEmpty }
        let left = Rect(x: rect.x + 1, y: rect.y, width: rect.width - rightWidth - 3, height: 1)
        let x = grid.write("linstory", x: left.x, y: left.y, style: bar.adding(.bold), clip: left)
        if !parts.isEmpty {
            grid.write(CellGrid.truncate(sep + parts.joined(separator: sep), to: left.maxX - x, ellipsis: glyphs.ellipsis),
                       x: x, y: left.y, style: bar, clip: left)
        }
    }

    var engineText: String {
        let e = state.engine
        if let error = e.error {
            return "error" + (error.frame.map { " at frame \($0)" } ?? "") + ": " + error.message
        }
        var parts = [e.paused ? "paused" : e.text]
        if !e.paused, let rate = e.iterationsPerSecond { parts.append("\(NumberText.compact(rate)) it/s") }
        if !e.paused, let eta = e.eta { parts.append("ETA \(NumberText.duration(eta))") }
        return parts.joined(separator: " \(glyphs.separator) ")
    }
}
