import Engine
import ArgumentParser

/// `A:B` — frames A (included) to B (excluded); either side may be empty ("10:", ":50").
struct FrameWindow: ExpressibleByArgument {
    let lower: Int
    let upper: Int?

    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let a = parts[0].isEmpty ? 0 : Int(parts[0])
        let b = parts[1].isEmpty ? nil : Int(parts[1])
        guard let a, a >= 0, parts[1].isEmpty || (b != nil && b! > a) else { return nil }
        lower = a
        upper = b
    }

    var range: Range<Int>? { upper.map { lower..<$0 } ?? (lower > 0 ? lower..<Int.max : nil) }
}

extension FitPolicy: ExpressibleByArgument {}
extension InversionMethod: ExpressibleByArgument {}
extension LatentSpace: ExpressibleByArgument {}
