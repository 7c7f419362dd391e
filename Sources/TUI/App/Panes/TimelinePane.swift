import Engine

/// The clip as a strip: scenes shaded alternately with cut markers by kind and the knots where a
/// scene's latent path bends (◆), the detector's difference curve, each frame's final loss as a heat
/// row, and a ruler with the cursor.
///
///     ┌ timeline ──────────────────────────────────┐
///     │scenes       ┃          ╳        ◢          │
///     │diff   ⣀⡀⠀⠀⢀⣸⣀⠀⠀⠀⠀⣀⣠⠼⠤⣀⠀⠀⢀⣀⠇⣀⡀            │
///     │loss   (heat row)                           │
///     │       0        ▲123                     299│
///     └────────────────────────────────────────────┘
public struct TimelinePane {
    let state: AppState
    let capabilities: TerminalCapabilities
    let focused: Bool

    /// The rows and the frame-to-column mapping, shared with the update for mouse clicks.
    public struct Geometry {
        static let labelWidth = 7
        public let inner: Rect
        /// The columns frames are drawn in (all rows but the labels).
        public let data: Rect
        public let strip: Rect
        public let curve: Rect
        public let heat: Rect
        public let ruler: Rect

        public init(box: Rect) {
            inner = box.inset(by: 1)
            data = inner.inset(left: Self.labelWidth)
            strip = Rect(x: data.x, y: inner.y, width: data.width, height: min(1, inner.height))
            curve = Rect(x: data.x, y: inner.y + 1, width: data.width, height: inner.height - 3)
            heat = Rect(x: data.x, y: inner.maxY - 2, width: data.width, height: inner.height >= 3 ? 1 : 0)
            ruler = Rect(x: data.x, y: inner.maxY - 1, width: data.width, height: inner.height >= 2 ? 1 : 0)
        }

        /// The column (from data.x) a frame of `window` is drawn in.
        func column(of frame: Int, window: Range<Int>) -> Int {
            guard !window.isEmpty, data.width > 0 else { return 0 }
            return min(data.width - 1, max(0, (frame - window.lowerBound) * data.width / window.count))
        }

        /// The frame a column shows (the first, when a column covers several).
        func frame(atColumn column: Int, window: Range<Int>) -> Int? {
            guard !window.isEmpty, data.width > 0, column >= 0, column < data.width else { return nil }
            return min(window.upperBound - 1, window.lowerBound + column * window.count / data.width)
        }

        /// The frames a column covers.
        func frames(atColumn column: Int, window: Range<Int>) -> Range<Int> {
            let n = window.count
            let a = column * n / data.width
            return (window.lowerBound + a)..<(window.lowerBound + min(n, max(a + 1, (column + 1) * n / data.width)))
        }
    }

    func render(into grid: inout CellGrid, rect: Rect) {
        let glyphs = capabilities.glyphs
        PaneBox.draw(rect, title: title(glyphs.separator), focused: focused, into: &grid, glyphs: glyphs)
        let g = Geometry(box: rect)
        guard !g.data.isEmpty else { return }
        let n = state.frameCount
        guard n > 0 else {
            PaneBox.explain("no video loaded", in: g.inner, into: &grid, glyphs: glyphs)
            return
        }
        let labels: [(String, Rect)] = [("scenes", g.strip), ("diff", g.curve), ("loss", g.heat)]
        for (label, row) in labels where !row.isEmpty {
            grid.write(label, x: g.inner.x, y: row.y, style: .dim, clip: g.inner)
        }
        drawStrip(into: &grid, g, glyphs: glyphs)
        drawCurve(into: &grid, g, glyphs: glyphs)
        drawHeat(into: &grid, g, glyphs: glyphs)
        drawRuler(into: &grid, g, glyphs: glyphs)
    }

    func title(_ dot: String) -> String {
        guard state.frameCount > 0 else { return "timeline" }
        let sceneCount = state.cuts.count + 1
        let pending = state.touchedFrames.isEmpty ? "" : " \(dot) edited, r re-runs"
        let window = state.timelineWindow
        let zoom = window.count < state.frameCount ? " \(dot) frames \(window.lowerBound)-\(window.upperBound - 1)" : ""
        return "timeline \(dot) frame \(state.cursor) of \(state.frameCount) \(dot) scene \(state.sceneIndex(containing: state.cursor) + 1) of \(sceneCount)\(zoom)\(pending)"
    }

    private func drawStrip(into grid: inout CellGrid, _ g: Geometry, glyphs: Glyphs) {
        let window = state.timelineWindow
        let shaded = capabilities.colorLevel >= .ansi256
        var cutAtColumn: [Int: SceneCut] = [:]
        for cut in state.cuts where window.contains(cut.frame) && cut.frame > 0 {
            cutAtColumn[g.column(of: cut.frame, window: window)] = cut
        }
        for c in 0..<g.data.width {
            let frames = g.frames(atColumn: c, window: window)
            let scene = state.sceneIndex(containing: frames.lowerBound)
            var style = CellStyle(background: shaded ? .indexed(scene % 2 == 0 ? 236 : 239) : .standard)
            var ch = " "
            if let cut = cutAtColumn[c] {
                switch cut.kind {
                case .cut: ch = glyphs.hardCut; style.foreground = .white; style.attributes = .bold
                case .dissolve: ch = glyphs.dissolveCut; style.foreground = .magenta
                case .fade: ch = glyphs.fadeCut; style.foreground = .cyan
                }
            } else if state.hasKnot(in: frames) {
                ch = glyphs.knot
                style.foreground = .yellow
            } else if !shaded && scene % 2 == 1 {
                ch = glyphs.isUnicode ? "░" : "."   // no background colours: shade odd scenes with a pattern
            }
            if frames.contains(state.cursor) { style.attributes.insert(.reverse) }
            grid[g.strip.x + c, g.strip.y] = Cell(ch, style: style)
        }
    }

    private func drawCurve(into grid: inout CellGrid, _ g: Geometry, glyphs: Glyphs) {
        guard !g.curve.isEmpty else { return }
        guard !state.differenceCurve.isEmpty else {
            PaneBox.explain("no scene detection yet", in: g.curve, into: &grid, glyphs: glyphs)
            return
        }
        // One value per braille dot column, the largest of the frames it covers, so the curve lines
        // up with the strip's columns and a spike at a cut is never averaged away.
        let window = state.timelineWindow
        let n = window.count
        let slots = g.curve.width * (capabilities.unicode ? 2 : 1)
        let values: [Double] = (0..<slots).map { x in
            let a = x * n / slots, b = min(n, max(a + 1, (x + 1) * n / slots))
            return state.differenceCurve.max(in: (window.lowerBound + a)..<(window.lowerBound + b)) ?? .nan
        }
        // The scale is the shown frames' own, so a zoomed-in curve fills its rows.
        let top = state.differenceCurve.max(in: window) ?? 1
        let chart = BrailleChart(values: values, yRange: 0...max(top, 1e-9), style: BrailleChart.style(unicode: capabilities.unicode),
                                 showAxes: false, color: .green, glyphs: glyphs)
        chart.render(into: &grid, rect: g.curve)
        let c = g.column(of: state.cursor, window: window)
        grid.restyle(Rect(x: g.curve.x + c, y: g.curve.y, width: 1, height: g.curve.height)) { style in
            if capabilities.colorLevel >= .ansi256 { style.background = .indexed(238) } else { style.attributes.insert(.reverse) }
        }
    }

    private func drawHeat(into grid: inout CellGrid, _ g: Geometry, glyphs: Glyphs) {
        guard !g.heat.isEmpty else { return }
        guard let lo = state.frameLoss.finiteMin, let hi = state.frameLoss.finiteMax else {
            grid.write(state.engine.isInverting ? "no frame finished yet" : "no inversion yet: press r", in: g.heat, style: .dim, glyphs: glyphs)
            return
        }
        // A cell's worst frame, from the loss summary: no pass over every frame.
        let window = state.timelineWindow
        let cells = (0..<g.heat.width).map { c in state.frameLoss.max(in: g.frames(atColumn: c, window: window)) ?? .nan }
        HeatRow(values: cells, range: lo...hi, colorLevel: capabilities.colorLevel, glyphs: glyphs).render(into: &grid, rect: g.heat)
    }

    private func drawRuler(into grid: inout CellGrid, _ g: Geometry, glyphs: Glyphs) {
        guard !g.ruler.isEmpty else { return }
        let window = state.timelineWindow
        grid.write(String(window.lowerBound), in: g.ruler, style: .dim, glyphs: glyphs)
        grid.write(String(window.upperBound - 1), in: g.ruler, alignment: .right, style: .dim, glyphs: glyphs)
        let c = g.column(of: state.cursor, window: window)
        let marker = glyphs.isUnicode ? "▲" : "^"
        let text = "\(marker)\(state.cursor)"
        let w = DisplayWidth.of(text)
        // The marker sits under the cursor column; near the right edge the number goes to its left.
        if c + w <= g.ruler.width {
            grid.write(text, x: g.ruler.x + c, y: g.ruler.y, style: .bold, clip: g.ruler)
        } else {
            let flipped = "\(state.cursor)\(marker)"
            grid.write(flipped, x: g.ruler.x + c - w + 1, y: g.ruler.y, style: .bold, clip: g.ruler)
        }
    }
}
