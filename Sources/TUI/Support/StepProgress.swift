import Foundation

/// A one-line progress bar on stderr (only when stderr is a terminal): done / total with rate and ETA.
final class StepProgress: @unchecked Sendable {
    let label: String
    let total: Int
    let unit: String
    private(set) var done = 0
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let enabled = isatty(2) != 0
    private let lock = NSLock()

    init(label: String, total: Int, unit: String) {
        self.label = label
        self.total = max(total, 1)
        self.unit = unit
    }

    func advance(by n: Int, detail: String) {
        lock.lock()
        defer { lock.unlock() }
        done += n
        guard enabled, Date().timeIntervalSince(lastDraw) > 0.1 || done >= total else { return }
        lastDraw = Date()
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(done) / max(elapsed, 1e-6)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let width = 24
        let filled = min(width, width * done / total)
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let line = String(format: "\r%@ %@ %3d%% %.1f %@/s ETA %@ %@", label, bar, 100 * done / total, rate, unit, Self.clock(eta), detail)
        FileHandle.standardError.write(line.padding(toLength: max(line.count, 100), withPad: " ", startingAt: 0).data(using: .utf8)!)
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write("\n".data(using: .utf8)!)
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
