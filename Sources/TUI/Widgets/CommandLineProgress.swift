import Foundation
import Glibc

/// The command line's progress report (the one every long command uses), safe to advance from the
/// engine's threads. On a terminal: a bar redrawn in place on stderr at most ten times a second.
/// Elsewhere (a batch job's log, a pipe): plain lines, one every `logInterval` seconds and one at
/// each milestone (`milestone`, e.g. a new scene), each saying done / total, rate, ETA and what is
/// being worked on, and no control characters. Without a known total it shows the count and the rate.
///
///     invert [██████████▌         ] 52%  12.3 it/s  ETA 0:42  frame 17 step 3/24 loss 0.4311
///     invert: 2400/4600 it (52%)  12.3 it/s  ETA 2:58  elapsed 3:15  scene 3 of 12: frame 17 step 3/24 loss 0.4311
public final class CommandLineProgress: @unchecked Sendable {
    public let total: Int?
    public let label: String
    public let unit: String
    private let fd: Int32
    private let enabled: Bool
    /// Lines at an interval instead of a bar: stderr is not a terminal.
    private let logs: Bool
    /// Seconds between log lines (LINSTORY_PROGRESS_INTERVAL overrides the default of 10).
    public let logInterval: Double
    private var lastLog: ContinuousClock.Instant
    private let width: Int
    private let unicode: Bool
    private let started = ContinuousClock.now
    private let lock = NSLock()
    private var lastDraw: ContinuousClock.Instant?
    private var completed = 0
    private var detail = ""
    private var drawn = false

    public init(total: Int?, label: String, unit: String = "it", fd: Int32 = STDERR_FILENO, enabled: Bool = true, logInterval: Double? = nil) {
        self.total = total.flatMap { $0 > 0 ? $0 : nil }
        self.label = label
        self.unit = unit
        self.fd = fd
        let terminal = isatty(fd) != 0
        self.enabled = enabled && terminal
        logs = enabled && !terminal
        self.logInterval = logInterval ?? Self.environmentInterval ?? 10
        lastLog = started
        var ws = winsize()
        width = self.enabled && ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 20 ? Int(ws.ws_col) : 80
        var environment: [String: String] = [:]
        for name in ["LC_ALL", "LC_CTYPE", "LANG"] {
            if let v = getenv(name) { environment[name] = String(cString: v) }
        }
        unicode = TerminalCapabilities.localeIsUTF8(environment: environment)
    }

    /// Units per second since the start.
    public var rate: Double? {
        lock.lock()
        defer { lock.unlock() }
        return currentRate
    }

    private var currentRate: Double? {
        let elapsed = (ContinuousClock.now - started) / .seconds(1)
        return elapsed > 0.2 && completed > 0 ? Double(completed) / elapsed : nil
    }

    static var environmentInterval: Double? {
        guard let v = getenv("LINSTORY_PROGRESS_INTERVAL"), let seconds = Double(String(cString: v)), seconds > 0 else { return nil }
        return seconds
    }

    public func update(completed: Int, detail: String? = nil) {
        lock.lock()
        defer { lock.unlock() }
        self.completed = completed
        if let detail { self.detail = detail }
        drawIfDue()
    }

    public func advance(by n: Int, detail: String? = nil) {
        lock.lock()
        defer { lock.unlock() }
        completed += n
        if let detail { self.detail = detail }
        drawIfDue()
    }

    /// A point worth a log line of its own (a new scene): written at once in a log, whatever the
    /// interval; on a terminal the bar just shows the detail.
    public func milestone(_ detail: String) {
        lock.lock()
        defer { lock.unlock() }
        self.detail = detail
        if logs { writeLogLine() } else { drawIfDue() }
    }

    /// Draws the final state and moves to a new line, or (`keep: false`) erases the bar so that
    /// what follows starts on a clean line.
    public func finish(keep: Bool = true) {
        lock.lock()
        defer { lock.unlock() }
        if logs {
            // The last word in a log: what was done, in how long.
            let elapsed = (ContinuousClock.now - started) / .seconds(1)
            emit("\(label.trimmingCharacters(in: .whitespaces)): \(keep ? "done" : "finished"), \(completed) \(unit) in \(NumberText.duration(elapsed))"
                + (currentRate.map { "  \(NumberText.compact($0)) \(unit)/s" } ?? "") + "\n")
            return
        }
        guard enabled else { return }
        if keep {
            if let total { completed = max(completed, total) }
            draw()
            emit("\n")
        } else if drawn {
            emit("\r\u{1B}[K")
        }
    }

    private func drawIfDue() {
        if logs, ContinuousClock.now - lastLog >= .milliseconds(Int(logInterval * 1000)) { writeLogLine() }
        guard enabled else { return }
        let now = ContinuousClock.now
        if let lastDraw, now - lastDraw < .milliseconds(100), completed < (total ?? Int.max) { return }
        lastDraw = now
        draw()
    }

    /// The line as drawn (without the control characters), for tests.
    public func line() -> String {
        let labelText = label.isEmpty ? "" : label + " "
        let tail = detail.isEmpty ? "" : "  " + detail
        let room = width - DisplayWidth.of(labelText) - DisplayWidth.of(tail) - 1
        let body: String
        if let total {
            let meter = ProgressMeter(completed: completed, total: total, rate: currentRate, unit: unit, glyphs: .forUnicode(unicode))
            body = meter.line(width: max(room, 20))
        } else {
            body = "\(completed) \(unit)" + (currentRate.map { "  \(NumberText.compact($0)) \(unit)/s" } ?? "")
        }
        return CellGrid.truncate(labelText + body + tail, to: width - 1, ellipsis: unicode ? "…" : "...")
    }

    /// The log's line: done / total, rate, ETA, elapsed, then what is being worked on.
    public func logLine() -> String {
        let elapsed = (ContinuousClock.now - started) / .seconds(1)
        var parts: [String] = []
        if let total {
            let percent = Int((100 * Double(completed) / Double(total)).rounded(.down))
            parts.append("\(completed)/\(total) \(unit) (\(percent)%)")
        } else {
            parts.append("\(completed) \(unit)")
        }
        if let rate = currentRate {
            parts.append("\(NumberText.compact(rate)) \(unit)/s")
            if let total { parts.append("ETA \(NumberText.duration(Double(max(0, total - completed)) / rate))") }
        }
        parts.append("elapsed \(NumberText.duration(elapsed))")
        if !detail.isEmpty { parts.append(detail) }
        return "\(label.trimmingCharacters(in: .whitespaces)): " + parts.joined(separator: "  ")
    }

    private func writeLogLine() {
        lastLog = ContinuousClock.now
        emit(logLine() + "\n")
    }

    private func draw() {
        // \r and erase-to-end-of-line redraw in place.
        emit("\r" + line() + "\u{1B}[K")
        drawn = true
    }

    private func emit(_ s: String) {
        _ = TerminalProbe.writeAll(fd, Array(s.utf8))
    }
}
