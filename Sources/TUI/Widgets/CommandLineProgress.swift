import Foundation
import Glibc

/// The command line's progress bar (the one every command uses): redrawn in place on stderr at
/// most ten times a second, and only when stderr is a terminal, so logs and pipes get no control
/// characters. Safe to advance from the engine's threads. Without a known total it shows the
/// count and the rate.
///
///     invert [██████████▌         ] 52%  12.3 it/s  ETA 0:42  frame 17 step 3/24 loss 0.4311
public final class CommandLineProgress: @unchecked Sendable {
    public let total: Int?
    public let label: String
    public let unit: String
    private let fd: Int32
    private let enabled: Bool
    private let width: Int
    private let unicode: Bool
    private let started = ContinuousClock.now
    private let lock = NSLock()
    private var lastDraw: ContinuousClock.Instant?
    private var completed = 0
    private var detail = ""
    private var drawn = false

    public init(total: Int?, label: String, unit: String = "it", fd: Int32 = STDERR_FILENO, enabled: Bool = true) {
        self.total = total.flatMap { $0 > 0 ? $0 : nil }
        self.label = label
        self.unit = unit
        self.fd = fd
        self.enabled = enabled && isatty(fd) != 0
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

    /// Draws the final state and moves to a new line, or (`keep: false`) erases the bar so that
    /// what follows starts on a clean line.
    public func finish(keep: Bool = true) {
        lock.lock()
        defer { lock.unlock() }
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

    private func draw() {
        // \r and erase-to-end-of-line redraw in place.
        emit("\r" + line() + "\u{1B}[K")
        drawn = true
    }

    private func emit(_ s: String) {
        _ = TerminalProbe.writeAll(fd, Array(s.utf8))
    }
}
