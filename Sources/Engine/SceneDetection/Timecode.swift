import Foundation

/// "HH:MM:SS.mmm" timecodes as PySceneDetect writes and reads them.
public enum Timecode {
    /// The timecode of frame `frame` at `fps`, seconds rounded to milliseconds (PySceneDetect's
    /// `FrameTimecode.get_timecode()`).
    public static func string(frame: Int, fps: Double) -> String {
        string(seconds: Double(frame) / fps)
    }

    /// Times outside 0...1e12 s (NaN included), which only an absurd frame count or rate gives, are
    /// clamped to it rather than trap.
    public static func string(seconds: Double) -> String {
        let millis = Int((min(max(seconds.isNaN ? 0 : seconds, 0), 1e12) * 1000).rounded())
        let h = millis / 3_600_000, m = millis / 60_000 % 60, s = millis / 1000 % 60, ms = millis % 1000
        return String(format: "%02d:%02d:%02d.%03d", h, m, s, ms)
    }

    /// Seconds from "HH:MM:SS.mmm", "MM:SS.mmm" or plain seconds; nil if it is none of those.
    public static func seconds(_ text: String) -> Double? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else { return nil }
        var total = 0.0
        for (i, part) in parts.enumerated() {
            guard let v = Double(part), v >= 0, v.isFinite else { return nil }
            if i < parts.count - 1 && v != v.rounded() { return nil }
            total = total * 60 + v
        }
        return total
    }
}
