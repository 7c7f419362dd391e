import Foundation

/// A length of time given either in frames or in seconds, as users give minimum scene lengths
/// ("15" or "0.6s", like PySceneDetect's --min-scene-len).
public enum FrameDuration: Sendable, Equatable, CustomStringConvertible {
    case frames(Int)
    case seconds(Double)

    /// The duration in whole frames at `fps` (seconds are rounded to the nearest frame).
    public func frames(at fps: Double) -> Int {
        switch self {
        case .frames(let n): return max(n, 0)
        case .seconds(let s): return max(Int((s * fps).rounded()), 0)
        }
    }

    /// "15" (frames), "0.6s" or "0.6 s" (seconds); nil for anything else.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let n = Int(t), n >= 0 {
            self = .frames(n)
        } else if t.hasSuffix("s"), let s = Double(t.dropLast().trimmingCharacters(in: .whitespaces)), s >= 0, s.isFinite {
            self = .seconds(s)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .frames(let n): return "\(n)"
        case .seconds(let s): return "\(s)s"
        }
    }
}
