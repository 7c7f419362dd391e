/// A progress bar with a percentage, a rate and a time left:
///
///     [██████████▌         ] 52%  12.3 it/s  ETA 0:42
///
/// The same text serves the UI (`render`) and the command line (`line`, via `CommandLineProgress`).
public struct ProgressMeter: Sendable {
    public var completed: Int
    public var total: Int
    /// Units per second, nil while unknown.
    public var rate: Double?
    /// What is counted, for the rate ("it", "frames").
    public var unit: String
    public var glyphs: Glyphs

    public init(completed: Int, total: Int, rate: Double? = nil, unit: String = "it", glyphs: Glyphs = .unicode) {
        self.completed = completed
        self.total = total
        self.rate = rate
        self.unit = unit
        self.glyphs = glyphs
    }

    public var fraction: Double { total > 0 ? min(1, max(0, Double(completed) / Double(total))) : 0 }

    /// Seconds left at the current rate.
    public var eta: Double? {
        guard let rate, rate > 0, total > 0 else { return nil }
        return Double(max(0, total - completed)) / rate
    }

    /// Everything after the bar: percentage, rate, ETA.
    public var trailer: String {
        var parts = ["\(Int((fraction * 100).rounded(.down)))%"]
        if let rate { parts.append("\(NumberText.compact(rate)) \(unit)/s") }
        parts.append("ETA \(NumberText.duration(completed >= total ? 0 : eta))")
        return parts.joined(separator: "  ")
    }

    /// The bar alone, `width` cells inside its brackets, in eighths with Unicode and `#` without.
    public func bar(width: Int) -> String {
        guard width > 0 else { return "" }
        let eighths = Int((fraction * Double(width * 8)).rounded(.down))
        var s = ""
        if glyphs.isUnicode {
            s = String(repeating: "█", count: eighths / 8)
            if eighths % 8 > 0 { s += glyphs.barEighths[eighths % 8] }
        } else {
            s = String(repeating: "#", count: eighths / 8)
        }
        return s + String(repeating: " ", count: width - DisplayWidth.of(s))
    }

    /// The whole line in `width` columns; the bar takes what the trailer leaves.
    public func line(width: Int) -> String {
        let tail = trailer
        let barWidth = width - DisplayWidth.of(tail) - 3
        guard barWidth >= 4 else { return CellGrid.truncate(tail, to: width, ellipsis: glyphs.ellipsis) }
        return "[" + bar(width: barWidth) + "] " + tail
    }

    public func render(into grid: inout CellGrid, rect: Rect) {
        guard !rect.isEmpty else { return }
        grid.write(line(width: rect.width), x: rect.x, y: rect.y, clip: rect)
    }
}
