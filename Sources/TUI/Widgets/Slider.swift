/// A horizontal slider for the interpolation parameter t. The nominal path [0, 1] is drawn solid;
/// the track extends dotted to either side, and further when t goes beyond it, because t outside
/// [0, 1] (extrapolation along the latent line) is a normal thing to look at.
///
///     t  ┄┄┄┄├────────●───────┤┄┄┄┄  t = 0.50
///            0                1
public struct Slider: Sendable {
    public var value: Double
    /// The nominal range, the ends of the latent line.
    public var range: ClosedRange<Double>
    /// How far past the nominal range the track always shows, as a fraction of it.
    public var margin: Double
    public var label: String
    public var glyphs: Glyphs
    /// Values marked on the track (a scene path's knots, where it bends).
    public var marks: [Double] = []

    public init(value: Double, range: ClosedRange<Double> = 0...1, margin: Double = 0.25, label: String = "t", glyphs: Glyphs = .unicode) {
        self.value = value
        self.range = range
        self.margin = margin
        self.label = label
        self.glyphs = glyphs
    }

    public var isExtrapolating: Bool { !range.contains(value) }

    /// The values shown at the track's two ends.
    public var shownRange: ClosedRange<Double> {
        let span = range.upperBound - range.lowerBound
        let lo = min(range.lowerBound - margin * span, value), hi = max(range.upperBound + margin * span, value)
        return lo...hi
    }

    public var valueText: String {
        "\(label) = \(NumberText.fixed(value, decimals: 2))" + (isExtrapolating ? " (extrapolating)" : "")
    }

    /// The track's column for a value.
    func column(of v: Double, width: Int) -> Int {
        let shown = shownRange
        let t = (v - shown.lowerBound) / (shown.upperBound - shown.lowerBound)
        return min(width - 1, max(0, Int((t * Double(width - 1)).rounded())))
    }

    /// The value at a track column (for mouse clicks on the slider).
    public func value(atColumn column: Int, trackWidth: Int) -> Double {
        let shown = shownRange
        guard trackWidth > 1 else { return value }
        return shown.lowerBound + (shown.upperBound - shown.lowerBound) * Double(column) / Double(trackWidth - 1)
    }

    /// The track's cells for a rectangle (after the label, before the value text).
    public func trackRect(in rect: Rect) -> Rect {
        let labelWidth = DisplayWidth.of(label) + 2
        // Room for the widest value text, so the track does not jump when extrapolation starts.
        let valueWidth = DisplayWidth.of("\(label) = -0.00 (extrapolating)") + 2
        return Rect(x: rect.x + labelWidth, y: rect.y, width: rect.width - labelWidth - valueWidth, height: 1)
    }

    public func render(into grid: inout CellGrid, rect: Rect) {
        guard !rect.isEmpty else { return }
        grid.write(label, x: rect.x, y: rect.y, style: .bold, clip: rect)
        let track = trackRect(in: rect)
        let valueStyle = isExtrapolating ? CellStyle(foreground: .yellow, attributes: .bold) : .bold
        grid.write(valueText, in: Rect(x: track.maxX + 2, y: rect.y, width: rect.maxX - track.maxX - 2, height: 1), style: valueStyle, glyphs: glyphs)
        guard track.width >= 5 else { return }
        let a = column(of: range.lowerBound, width: track.width), b = column(of: range.upperBound, width: track.width)
        let outside = glyphs.isUnicode ? "┄" : "."
        for x in 0..<track.width {
            let inside = x >= a && x <= b
            let ch = x == a ? (glyphs.isUnicode ? "├" : "|") : x == b ? (glyphs.isUnicode ? "┤" : "|") : inside ? glyphs.track : outside
            grid[track.x + x, track.y] = Cell(ch, style: inside ? .plain : .dim)
        }
        for m in marks { grid[track.x + column(of: m, width: track.width), track.y] = Cell(glyphs.knot, style: CellStyle(foreground: .yellow)) }
        grid[track.x + column(of: value, width: track.width), track.y] = Cell(glyphs.thumb, style: valueStyle)
        if rect.height >= 2 {
            let lo = NumberText.compact(range.lowerBound), hi = NumberText.compact(range.upperBound)
            grid.write(lo, x: track.x + a, y: rect.y + 1, style: .dim, clip: rect)
            grid.write(hi, x: track.x + b - DisplayWidth.of(hi) + 1, y: rect.y + 1, style: .dim, clip: rect)
        }
    }
}
