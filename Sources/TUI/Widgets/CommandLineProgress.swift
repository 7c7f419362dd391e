import Glibc

/// A progress bar for commands run from a shell: redrawn in place on stderr at most ten times a
/// second, and only when stderr is a terminal, so logs and pipes get no control characters.
public final class CommandLineProgress {
    public let total: Int
    public let label: String
    public let unit: String
    private let enabled: Bool
    private let width: Int
    private let unicode: Bool
    private let started = ContinuousClock.now
    private var lastDraw: ContinuousClock.Instant?
    private var completed = 0

    public init(total: Int, label: String, unit: String = "it", fd: Int32 = STDERR_FILENO) {
        self.total = total
        self.label = label
        self.unit = unit
        self.fd = fd
        enabled = isatty(fd) != 0
        var ws = winsize()
        width = enabled && ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 20 ? Int(ws.ws_col) : 80
        var environment: [String: String] = [:]
        for name in ["LC_ALL", "LC_CTYPE", "LANG"] {
            if let v = getenv(name) { environment[name] = String(cString: v) }
        }
        unicode = TerminalCapabilities.localeIsUTF8(environment: environment)
    }

    private let fd: Int32

    /// Units per second since the start.
    public var rate: Double? {
        let elapsed = (ContinuousClock.now - started) / .seconds(1)
        return elapsed > 0.2 && completed > 0 ? Double(completed) / elapsed : nil
    }

    public func update(completed: Int) {
        self.completed = completed
        guard enabled else { return }
        let now = ContinuousClock.now
        if let lastDraw, now - lastDraw < .milliseconds(100), completed < total { return }
        lastDraw = now
        draw()
    }

    /// Draws the final state and moves to a new line.
    public func finish() {
        guard enabled else { return }
        completed = max(completed, total)
        draw()
        emit("\n")
    }

    private func draw() {
        let labelText = label.isEmpty ? "" : label + " "
        let bar = ProgressMeter(completed: completed, total: total, rate: rate, unit: unit, glyphs: .forUnicode(unicode))
        // \r and erase-to-end-of-line redraw in place.
        emit("\r" + labelText + bar.line(width: width - DisplayWidth.of(labelText) - 1) + "\u{1B}[K")
    }

    private func emit(_ s: String) {
        _ = TerminalProbe.writeAll(fd, Array(s.utf8))
    }
}
