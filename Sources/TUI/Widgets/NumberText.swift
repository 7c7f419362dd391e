import Foundation

/// Short number and duration texts for axis labels, status lines and progress bars. Written out
/// by hand rather than with `String(format:)` so the output never depends on the locale.
public enum NumberText {
    /// About `digits` significant digits: "0", "0.0123", "12.3", "1234", "1.2e-05", "3.4e+06".
    public static func compact(_ value: Double, digits: Int = 3) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e5 || magnitude < 1e-3 {
            var exponent = Int((log10(magnitude)).rounded(.down))
            var mantissa = value / pow(10, Double(exponent))
            let scale = pow(10, Double(max(0, digits - 1)))
            mantissa = (mantissa * scale).rounded() / scale
            if abs(mantissa) >= 10 { mantissa /= 10; exponent += 1 }
            let sign = exponent < 0 ? "-" : "+"
            let e = abs(exponent) < 10 ? "0\(abs(exponent))" : "\(abs(exponent))"
            return trimmed(fixed(mantissa, decimals: max(0, digits - 1))) + "e" + sign + e
        }
        let integerDigits = max(1, Int(log10(magnitude).rounded(.down)) + 1)
        let decimals = max(0, digits - integerDigits)
        return trimmed(fixed(value, decimals: decimals))
    }

    /// `value` with exactly `decimals` digits after the point.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        let scale = pow(10, Double(decimals))
        let scaled = (abs(value) * scale).rounded()
        let sign = value < 0 && scaled > 0 ? "-" : ""
        guard scaled < 9e15 else { return sign + String(Int(abs(value))) }
        let n = Int(scaled)
        let whole = n / Int(scale), fraction = n % Int(scale)
        if decimals == 0 { return sign + String(whole) }
        let f = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: decimals - f.count) + f
    }

    /// A duration as "0:42", "12:05" or "1:02:03"; "--:--" when unknown.
    public static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        let two = { (v: Int) in v < 10 ? "0\(v)" : "\(v)" }
        if s >= 3600 { return "\(s / 3600):\(two((s / 60) % 60)):\(two(s % 60))" }
        return "\(s / 60):\(two(s % 60))"
    }

    private static func trimmed(_ s: String) -> String {
        guard s.contains(".") else { return s }
        var t = s
        while t.last == "0" { t.removeLast() }
        if t.last == "." { t.removeLast() }
        return t
    }
}
