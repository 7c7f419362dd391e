/// A line plot of a series (per-frame loss, loss over steps, the detector's difference curve) with
/// optional axes: the y range's max and min on the left, the first and last index below, and the
/// value at the cursor. Braille gives 2x4 dots per cell; without Unicode an ASCII plot, and a
/// block-bar variant for fonts that lack braille.
public struct BrailleChart: Sendable {
    public enum Style: Sendable {
        case braille
        /// Bars of eighth blocks, one per column: an area chart.
        case blocks
        /// `*` for points and `|` for steep segments.
        case ascii
    }

    /// The series; NaN leaves a gap.
    public var values: [Double]
    /// The y range; nil fits the data.
    public var yRange: ClosedRange<Double>?
    /// An index to mark with a highlighted column, and whose value the x axis shows.
    public var cursor: Int?
    public var style: Style
    public var showAxes: Bool
    public var color: TerminalColor
    /// The x axis' first index label (frame numbers start at 0, steps at 1).
    public var firstIndexLabel: Int
    /// The x axis' labels when the values are summaries of a longer series (a value per slot of
    /// frames): its first and last index, and the cursor's text.
    public var summaryLabels: (first: Int, last: Int, cursor: String?)?
    public var glyphs: Glyphs

    public init(values: [Double], yRange: ClosedRange<Double>? = nil, cursor: Int? = nil, style: Style = .braille,
                showAxes: Bool = true, color: TerminalColor = .cyan, firstIndexLabel: Int = 0, glyphs: Glyphs = .unicode) {
        self.values = values
        self.yRange = yRange
        self.cursor = cursor
        self.style = style
        self.showAxes = showAxes
        self.color = color
        self.firstIndexLabel = firstIndexLabel
        self.glyphs = glyphs
    }

    /// The style that suits a terminal: braille with Unicode, ASCII without.
    public static func style(unicode: Bool) -> Style { unicode ? .braille : .ascii }

    /// The y range drawn: `yRange`, or the data's finite min and max (widened when flat).
    public var effectiveRange: ClosedRange<Double>? {
        if let yRange { return yRange }
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return nil }
        return lo == hi ? (lo - 0.5)...(hi + 0.5) : lo...hi
    }

    public func render(into grid: inout CellGrid, rect: Rect) {
        guard !rect.isEmpty, let range = effectiveRange else { return }
        var plot = rect
        let axisStyle = CellStyle.dim
        if showAxes, rect.height >= 2 {
            let top = NumberText.compact(range.upperBound), bottom = NumberText.compact(range.lowerBound)
            let labelWidth = max(DisplayWidth.of(top), DisplayWidth.of(bottom))
            let withXAxis = rect.height >= 4
            if rect.width > labelWidth + 6 {
                plot = rect.inset(left: labelWidth + 1)
                if withXAxis { plot = plot.inset(bottom: 2) }
                grid.write(top, in: Rect(x: rect.x, y: plot.y, width: labelWidth, height: 1), alignment: .right, style: axisStyle, glyphs: glyphs)
                grid.write(bottom, in: Rect(x: rect.x, y: plot.maxY - 1, width: labelWidth, height: 1), alignment: .right, style: axisStyle, glyphs: glyphs)
                for y in plot.y..<plot.maxY {
                    let tick = y == plot.y || y == plot.maxY - 1
                    grid[plot.x - 1, y] = Cell(glyphs.isUnicode ? (tick ? "┤" : "│") : "|", style: axisStyle)
                }
                if withXAxis { drawXAxis(into: &grid, plot: plot, axisStyle: axisStyle) }
            }
        }
        guard !plot.isEmpty else { return }
        switch style {
        case .braille: drawBraille(into: &grid, plot: plot, range: range)
        case .blocks: drawBlocks(into: &grid, plot: plot, range: range)
        case .ascii: drawASCII(into: &grid, plot: plot, range: range)
        }
        if let cursor, values.indices.contains(cursor) {
            let x = plot.x + column(of: cursor, columns: plot.width)
            grid.restyle(Rect(x: x, y: plot.y, width: 1, height: plot.height)) { style in
                if case .standard = style.background { style.background = .indexed(238) }
            }
        }
    }

    private func drawXAxis(into grid: inout CellGrid, plot: Rect, axisStyle: CellStyle) {
        let y = plot.maxY
        grid[plot.x - 1, y] = Cell(glyphs.isUnicode ? "└" : "+", style: axisStyle)
        grid.fill(Rect(x: plot.x, y: y, width: plot.width, height: 1), character: glyphs.horizontal, style: axisStyle)
        let labels = Rect(x: plot.x, y: y + 1, width: plot.width, height: 1)
        if let summary = summaryLabels {
            grid.write(String(summary.first), in: labels, style: axisStyle, glyphs: glyphs)
            grid.write(String(summary.last), in: labels, alignment: .right, style: axisStyle, glyphs: glyphs)
            if let text = summary.cursor {
                grid.write(text, in: labels.inset(left: 6, right: 6), alignment: .center, style: .plain, glyphs: glyphs)
            }
            return
        }
        grid.write(String(firstIndexLabel), in: labels, style: axisStyle, glyphs: glyphs)
        if values.count > 1 {
            grid.write(String(firstIndexLabel + values.count - 1), in: labels, alignment: .right, style: axisStyle, glyphs: glyphs)
        }
        if let cursor, values.indices.contains(cursor) {
            let text = "\(firstIndexLabel + cursor): \(NumberText.compact(values[cursor]))"
            grid.write(text, in: labels.inset(left: 6, right: 6), alignment: .center, style: .plain, glyphs: glyphs)
        }
    }

    /// The cell column an index is drawn in, the same mapping `spans` uses.
    func column(of index: Int, columns: Int) -> Int {
        let perCell = style == .braille ? 2 : 1
        return min(columns - 1, Self.slot(of: index, count: values.count, slots: columns * perCell) / perCell)
    }

    /// The slot (dot column, or cell column) of index `i` among `count`: spread evenly with both
    /// ends used when there are fewer points than slots, bucketed when there are more.
    static func slot(of i: Int, count n: Int, slots: Int) -> Int {
        guard n > 1, slots > 1 else { return 0 }
        if n <= slots { return Int((Double(i) * Double(slots - 1) / Double(n - 1)).rounded()) }
        return min(slots - 1, i * slots / n)
    }

    /// For every column of `slots` (braille dots or cells) the span of y positions to fill, with 0
    /// the top, joining neighbouring columns so the line is continuous; nil for gaps.
    func spans(slots: Int, levels: Int, range: ClosedRange<Double>) -> [ClosedRange<Int>?] {
        let n = values.count
        guard n > 0, slots > 0, levels > 0 else { return [] }
        let height = range.upperBound - range.lowerBound
        func level(_ v: Double) -> Int {
            let t = height > 0 ? (v - range.lowerBound) / height : 0.5
            let clamped = min(1, max(0, t))
            return levels - 1 - Int((clamped * Double(levels - 1)).rounded())
        }
        var out = [ClosedRange<Int>?](repeating: nil, count: slots)
        if n <= slots {
            // Fewer points than columns: place each, and draw straight segments between them.
            func slot(_ i: Int) -> Int { Self.slot(of: i, count: n, slots: slots) }
            for i in 0..<n where values[i].isFinite {
                let x0 = slot(i), y0 = level(values[i])
                out[x0] = merge(out[x0], y0...y0)
                guard i + 1 < n, values[i + 1].isFinite else { continue }
                let x1 = slot(i + 1), y1 = level(values[i + 1])
                guard x1 > x0 else { continue }
                var previous = y0
                for x in (x0 + 1)...x1 {
                    let y = Int((Double(y0) + Double(y1 - y0) * Double(x - x0) / Double(x1 - x0)).rounded())
                    // The span from the previous column's y, so steep lines have no holes.
                    let span = y > previous ? (previous + 1)...y : y < previous ? y...(previous - 1) : y...y
                    out[x] = merge(out[x], span)
                    previous = y
                }
            }
        } else {
            // More points than columns: each column shows the min-max of its points.
            var previous: ClosedRange<Int>?
            for x in 0..<slots {
                let start = x * n / slots, end = max(start + 1, (x + 1) * n / slots)
                let finite = values[start..<end].filter(\.isFinite)
                guard let lo = finite.min(), let hi = finite.max() else { previous = nil; continue }
                var span = level(hi)...level(lo)
                if let p = previous {
                    // Reach halfway back to the previous column's span.
                    if p.upperBound < span.lowerBound { span = (p.upperBound + 1)...span.upperBound }
                    if p.lowerBound > span.upperBound { span = span.lowerBound...(p.lowerBound - 1) }
                }
                out[x] = span
                previous = span
            }
        }
        return out
    }

    private func merge(_ a: ClosedRange<Int>?, _ b: ClosedRange<Int>) -> ClosedRange<Int> {
        guard let a else { return b }
        return min(a.lowerBound, b.lowerBound)...max(a.upperBound, b.upperBound)
    }

    private func drawBraille(into grid: inout CellGrid, plot: Rect, range: ClosedRange<Double>) {
        let spans = spans(slots: plot.width * 2, levels: plot.height * 4, range: range)
        var bits = [UInt8](repeating: 0, count: plot.width * plot.height)
        // Dot bits by (column 0-1, row 0-3), as Unicode's braille block numbers them.
        let dot: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]
        for (x, span) in spans.enumerated() {
            guard let span else { continue }
            for y in span {
                bits[(y / 4) * plot.width + x / 2] |= dot[x % 2][y % 4]
            }
        }
        let style = CellStyle(foreground: color)
        for cy in 0..<plot.height {
            for cx in 0..<plot.width {
                let b = bits[cy * plot.width + cx]
                guard b != 0 else { continue }
                grid[plot.x + cx, plot.y + cy] = Cell(String(Character(Unicode.Scalar(0x2800 + UInt32(b))!)), style: style)
            }
        }
    }

    private func drawBlocks(into grid: inout CellGrid, plot: Rect, range: ClosedRange<Double>) {
        let eighths = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let levels = plot.height * 8
        let spans = spans(slots: plot.width, levels: levels, range: range)
        let style = CellStyle(foreground: color)
        for (x, span) in spans.enumerated() {
            guard let span else { continue }
            // Bar height in eighths from the bottom up to the span's top (its highest value).
            let filled = levels - span.lowerBound
            for cy in 0..<plot.height {
                let fromBottom = plot.height - 1 - cy
                let inCell = min(8, max(0, filled - fromBottom * 8))
                if inCell > 0 { grid[plot.x + x, plot.y + cy] = Cell(eighths[inCell], style: style) }
            }
        }
    }

    private func drawASCII(into grid: inout CellGrid, plot: Rect, range: ClosedRange<Double>) {
        let spans = spans(slots: plot.width, levels: plot.height, range: range)
        let style = CellStyle(foreground: color)
        for (x, span) in spans.enumerated() {
            guard let span else { continue }
            for y in span {
                let point = span.count == 1 || y == span.lowerBound || y == span.upperBound
                grid[plot.x + x, plot.y + y] = Cell(point ? "*" : "|", style: style)
            }
        }
    }
}
