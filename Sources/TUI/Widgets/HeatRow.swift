/// One value per frame as a row of coloured cells: the timeline's per-frame final loss. When frames
/// outnumber cells, a cell shows the worst (largest) value among its frames, so a bad frame is never
/// averaged away. Without colour, shades of ink stand in.
public struct HeatRow: Sendable {
    /// Per-frame values; NaN where there is none yet.
    public var values: [Double]
    /// The value range the colour ramp spans; nil fits the data.
    public var range: ClosedRange<Double>?
    public var colorLevel: ColorLevel
    public var glyphs: Glyphs

    public init(values: [Double], range: ClosedRange<Double>? = nil, colorLevel: ColorLevel, glyphs: Glyphs = .unicode) {
        self.values = values
        self.range = range
        self.colorLevel = colorLevel
        self.glyphs = glyphs
    }

    /// Stops of the ramp from low (good) to high (bad): dark blue, teal, green, yellow, red.
    static let ramp: [(Double, Double, Double)] = [(40, 40, 120), (30, 130, 140), (60, 180, 80), (230, 210, 50), (220, 50, 40)]
    /// The eight-colour version of the ramp.
    static let basicRamp: [TerminalColor] = [.blue, .cyan, .green, .yellow, .red]

    public func render(into grid: inout CellGrid, rect: Rect) {
        guard !rect.isEmpty, !values.isEmpty else { return }
        let finite = values.filter(\.isFinite)
        guard let lo = range?.lowerBound ?? finite.min(), let hi = range?.upperBound ?? finite.max() else { return }
        let n = values.count
        for cx in 0..<rect.width {
            // The frames this cell covers (at least one, repeated when frames are fewer than cells).
            let start = cx * n / rect.width, end = max(start + 1, (cx + 1) * n / rect.width)
            let worst = values[start..<min(n, end)].filter(\.isFinite).max()
            let cell: Cell
            if let worst {
                let t = hi > lo ? min(1, max(0, (worst - lo) / (hi - lo))) : 0.5
                cell = self.cell(for: t)
            } else {
                cell = Cell(glyphs.isUnicode ? "·" : ".", style: .dim)   // a faint dot: "not yet", not a value
            }
            for y in rect.y..<rect.maxY { grid[rect.x + cx, y] = cell }
        }
    }

    /// The cell for a position `t` in [0, 1] on the ramp.
    func cell(for t: Double) -> Cell {
        switch colorLevel {
        case .monochrome:
            let shades = glyphs.shades
            return Cell(shades[min(shades.count - 1, 1 + Int(t * Double(shades.count - 1)))])
        case .ansi8:
            let c = Self.basicRamp[min(Self.basicRamp.count - 1, Int(t * Double(Self.basicRamp.count)))]
            return Cell(" ", style: CellStyle(background: c))
        case .ansi256, .truecolor:
            let x = t * Double(Self.ramp.count - 1)
            let i = min(Self.ramp.count - 2, Int(x)), f = x - Double(i)
            let a = Self.ramp[i], b = Self.ramp[i + 1]
            func mix(_ p: Double, _ q: Double) -> UInt8 { UInt8((p + (q - p) * f).rounded()) }
            return Cell(" ", style: CellStyle(background: colorLevel.resolve(.rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2)))))
        }
    }
}
