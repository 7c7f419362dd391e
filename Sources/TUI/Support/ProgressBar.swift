import Foundation

/// A one-line progress bar on stderr: frames done, rate and time left. Drawn only when stderr is a
/// terminal (never into a log or a pipe), and at most ten times a second.
final class ProgressBar {
    private let total: Int?
    private let label: String
    private let enabled: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(label: String, total: Int?, enabled: Bool = isatty(STDERR_FILENO) != 0) {
        self.label = label
        self.total = total.flatMap { $0 > 0 ? $0 : nil }
        self.enabled = enabled
    }

    func update(_ done: Int) {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        FileHandle.standardError.write(Data(("\r" + Self.line(label: label, done: done, total: total, elapsed: now.timeIntervalSince(start)) + "\u{1B}[K").utf8))
        drawn = true
    }

    /// Removes the bar so that what follows starts on a clean line.
    func finish() {
        guard enabled && drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    /// "detect ▕██████░░░░░░▏  120/202 frames  410 fps  ETA 0:00" (pure, for tests).
    static func line(label: String, done: Int, total: Int?, elapsed: Double, width: Int = 24) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var parts = [label]
        if let total {
            let fraction = min(Double(done) / Double(total), 1)
            let filled = Int((fraction * Double(width)).rounded(.down))
            parts.append("▕" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "▏")
            parts.append("\(done)/\(total) frames")
        } else {
            parts.append("\(done) frames")
        }
        parts.append(String(format: "%.0f fps", rate))
        if let total, rate > 0 {
            let left = Int((Double(max(total - done, 0)) / rate).rounded(.up))
            parts.append(String(format: "ETA %d:%02d", left / 60, left % 60))
        }
        return parts.joined(separator: "  ")
    }
}
