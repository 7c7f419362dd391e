import CNcursesw
import Glibc

/// The one place that talks to ncursesw. It owns the terminal from `start` to `stop`: one thread
/// calls it (Debian's ncursesw is not reentrant). It reads keys with a short timeout, draws
/// `CellGrid`s by writing only the cells that changed since the last frame, writes raw overlays
/// (sixel) after ncurses has refreshed, and gives the terminal back clean on `stop`, on Ctrl-C (a
/// flag the loop sees as `Key.interrupt`) and, as far as a signal handler can, on a crash.
public final class Terminal {
    public struct Options: Sendable {
        /// How long `readKey` waits for input; short, so the loop can drain engine messages.
        public var inputTimeoutMilliseconds: Int32 = 20
        /// `--images`.
        public var imagesOverride: ImageMode?
        public var mouse = true
        public init(inputTimeoutMilliseconds: Int32 = 20, imagesOverride: ImageMode? = nil, mouse: Bool = true) {
            self.inputTimeoutMilliseconds = inputTimeoutMilliseconds
            self.imagesOverride = imagesOverride
            self.mouse = mouse
        }
    }

    public private(set) var size: Size
    public let capabilities: TerminalCapabilities

    private let screen: OpaquePointer
    private let window: UnsafeMutablePointer<WINDOW>
    private var active = true
    /// What the terminal shows now, for the diff; nil forces a full repaint.
    private var shown: CellGrid?
    private var overlaysShown: [TerminalOverlay] = []
    /// The colours ncurses itself can set; below `capabilities.colorLevel` when the terminal does
    /// truecolour but its terminfo entry says 256 (the usual TERM=xterm-256color, COLORTERM=truecolor).
    private let ncursesLevel: ColorLevel
    private let directColor: Bool
    private var pairs: [ColorPair: Int32] = [:]
    private var nextPair: Int32 = 1
    private let maxPairs: Int32

    private struct ColorPair: Hashable {
        var foreground: Int32
        var background: Int32
    }

    /// Probes the terminal, then starts ncurses on it.
    public static func start(options: Options = Options()) throws -> Terminal {
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            throw TerminalError("the interactive UI needs a terminal on stdin and stdout")
        }
        let probe = TerminalProbe.query()
        return try Terminal(options: options, probe: probe)
    }

    private init(options: Options, probe: TerminalProbeReply?) throws {
        setlocale(LC_ALL, "")
        Self.installSignalHandlers()
        // newterm rather than initscr: initscr exits the process when TERM is unknown.
        guard let output = fdopen(STDOUT_FILENO, "w"), let input = fdopen(STDIN_FILENO, "r"),
              let screen = newterm(nil, output, input) else {
            Self.restoreSignalHandlers()
            let term = getenv("TERM").map { String(cString: $0) } ?? "(unset)"
            throw TerminalError("ncurses cannot drive this terminal (TERM=\(term))")
        }
        self.screen = screen
        set_term(screen)
        window = cncurses_stdscr()
        Self.terminalActive = 1
        cbreak()        // keys arrive at once, and Ctrl-C still raises SIGINT (raw() would swallow it)
        noecho()
        nonl()
        keypad(window, true)
        intrflush(window, false)
        leaveok(window, true)
        curs_set(0)
        set_escdelay(25)   // Esc alone is answered in 25 ms instead of ncurses' default second
        wtimeout(window, options.inputTimeoutMilliseconds)
        if options.mouse {
            mousemask(cncurses_button1_pressed() | cncurses_button1_clicked() | cncurses_button4_pressed() | cncurses_button5_pressed(), nil)
            mouseinterval(0)   // report presses at once instead of waiting to pair them into clicks
        }
        var colors = 0
        if has_colors() {
            start_color()
            use_default_colors()
            colors = Int(cncurses_colors())
        }
        directColor = colors >= 1 << 24
        ncursesLevel = colors >= 1 << 24 ? .truecolor : colors >= 256 ? .ansi256 : colors >= 8 ? .ansi8 : .monochrome
        maxPairs = cncurses_color_pairs()
        var environment: [String: String] = [:]
        for name in ["COLORTERM", "NO_COLOR"] {
            if let v = getenv(name) { environment[name] = String(cString: v) }
        }
        capabilities = TerminalCapabilities.detect(
            environment: environment, ncursesColors: colors, codeset: TerminalProbe.localeCodeset(),
            probe: probe, imagesOverride: options.imagesOverride)
        size = Size(width: Int(getmaxx(window)), height: Int(getmaxy(window)))
    }

    deinit { stop() }

    /// Ends ncurses and restores the terminal; safe to call twice.
    public func stop() {
        guard active else { return }
        active = false
        endwin()
        delscreen(screen)
        Self.terminalActive = 0
        Self.restoreSignalHandlers()
    }

    // MARK: Input

    /// The next key, waiting at most the input timeout; nil when none came.
    public func readKey() -> Key? {
        if Self.interruptFlag != 0 {
            Self.interruptFlag = 0
            return .interrupt
        }
        var wch: wint_t = 0
        let rc = wget_wch(window, &wch)
        if Self.interruptFlag != 0 {
            Self.interruptFlag = 0
            return .interrupt
        }
        switch rc {
        case KEY_CODE_YES:
            return functionKey(Int32(wch))
        case OK:
            return Self.decodeCharacter(UInt32(wch))
        default:
            return nil
        }
    }

    private func functionKey(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_BTAB: return .backTab
        case KEY_ENTER: return .enter
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_RESIZE:
            size = Size(width: Int(getmaxx(window)), height: Int(getmaxy(window)))
            shown = nil   // ncurses has resized its screens; repaint everything, overlays too
            return .resize(size)
        case KEY_MOUSE:
            var event = MEVENT()
            guard getmouse(&event) == OK else { return nil }
            if event.bstate & cncurses_button4_pressed() != 0 { return .wheel(x: Int(event.x), y: Int(event.y), direction: -1) }
            if event.bstate & cncurses_button5_pressed() != 0 { return .wheel(x: Int(event.x), y: Int(event.y), direction: 1) }
            let buttons = cncurses_button1_pressed() | cncurses_button1_clicked()
            guard event.bstate & buttons != 0 else { return nil }
            return .click(x: Int(event.x), y: Int(event.y))
        case KEY_F0 + 1...KEY_F0 + 24:
            return .function(Int(code - KEY_F0))
        default:
            return nil
        }
    }

    /// A character from `wget_wch` as a key: control characters get their names.
    public static func decodeCharacter(_ value: UInt32) -> Key? {
        switch value {
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .escape
        case 8, 127: return .backspace
        case 1...26: return .control(Character(Unicode.Scalar(value + 96)!))
        case 0..<32: return nil
        default:
            guard let scalar = Unicode.Scalar(value) else { return nil }
            return .character(Character(scalar))
        }
    }

    // MARK: Output

    /// Draws a frame: the cells that differ from the last frame through ncurses, then the overlays.
    /// An overlay is sent again when its cells were repainted; cells an overlay no longer covers
    /// are repainted so its pixels go away.
    public func draw(_ grid: CellGrid, overlays: [TerminalOverlay] = []) {
        guard active else { return }
        let full = shown == nil || shown!.size != grid.size
        if full {
            // After a resize or on the first frame the terminal's content is unknown: clear it.
            werase(window)
            clearok(cncurses_curscr(), true)
        }
        // Overlays that went away or changed shape: make ncurses repaint their rows.
        var repaintedRows = Set<Int>()
        for old in overlaysShown where !overlays.contains(where: { $0.rect == old.rect && $0.pixelSize == old.pixelSize }) {
            let r = old.rect.intersection(grid.bounds)
            guard !r.isEmpty else { continue }
            wredrawln(window, Int32(r.y), Int32(r.height))
            repaintedRows.formUnion(r.y..<r.maxY)
        }

        var changed: [(x: Int, y: Int)] = []
        var trueColorCells: [(x: Int, y: Int)] = []
        let width = min(grid.size.width, size.width), height = min(grid.size.height, size.height)
        for y in 0..<height {
            for x in 0..<width {
                let cell = grid[x, y]
                let rowRepainted = repaintedRows.contains(y)
                if !full, let shown, shown[x, y] == cell, !rowRepainted { continue }
                if !cell.isContinuation { put(cell, x: x, y: y) }
                changed.append((x, y))
                if capabilities.colorLevel == .truecolor, !directColor, cell.style.hasRGB { trueColorCells.append((x, y)) }
            }
        }
        wnoutrefresh(window)
        doupdate()
        shown = grid

        var raw: [UInt8] = []
        if !trueColorCells.isEmpty { raw += trueColorBytes(grid, cells: trueColorCells) }
        for overlay in overlays {
            let wasShown = overlaysShown.contains(overlay)
            let touched = full || changed.contains { overlay.rect.contains(x: $0.x, y: $0.y) }
                || (overlay.rect.y..<overlay.rect.maxY).contains { repaintedRows.contains($0) }
            if !wasShown || touched { raw += Self.placed(overlay.bytes, x: overlay.rect.x, y: overlay.rect.y) }
        }
        overlaysShown = overlays
        if !raw.isEmpty { writeRaw(raw) }
    }

    /// Forgets what the screen shows, so the next `draw` repaints everything (after Ctrl-L, or
    /// after another program wrote to the terminal).
    public func invalidate() { shown = nil }

    /// Writes bytes straight to the terminal at a cell, keeping ncurses' cursor and attributes
    /// (DECSC/DECRC around the write). For one-off output; images belong in `draw`'s overlays.
    public func writeRaw(_ bytes: [UInt8], x: Int, y: Int) {
        writeRaw(Self.placed(bytes, x: x, y: y))
    }

    private static func placed(_ bytes: [UInt8], x: Int, y: Int) -> [UInt8] {
        Array("\u{1B}7\u{1B}[\(y + 1);\(x + 1)H".utf8) + bytes + Array("\u{1B}8".utf8)
    }

    private func writeRaw(_ bytes: [UInt8]) {
        fflush(nil)   // ncurses' own buffered output first
        _ = TerminalProbe.writeAll(STDOUT_FILENO, bytes)
    }

    private func put(_ cell: Cell, x: Int, y: Int) {
        var wide: [wchar_t] = cell.character.unicodeScalars.prefix(Int(CCHARW_MAX)).map { wchar_t(bitPattern: $0.value) }
        if wide.isEmpty { wide = [32] }
        wide.append(0)
        var attributes = cncurses_a_normal()
        let a = cell.attributes
        if a.contains(.bold) { attributes |= cncurses_a_bold() }
        if a.contains(.dim) { attributes |= cncurses_a_dim() }
        if a.contains(.italic) { attributes |= cncurses_a_italic() }
        if a.contains(.underline) { attributes |= cncurses_a_underline() }
        if a.contains(.reverse) { attributes |= cncurses_a_reverse() }
        var pair = colorPair(cell.style)
        var c = cchar_t()
        setcchar(&c, wide, attributes, 0, &pair)
        mvwadd_wch(window, Int32(y), Int32(x), &c)
    }

    /// The extended colour pair for a cell's colours, allocated on first use. When the terminal's
    /// pairs run out, all are dropped and the screen repainted with fresh ones.
    private func colorPair(_ style: CellStyle) -> Int32 {
        guard ncursesLevel > .monochrome else { return 0 }
        let key = ColorPair(foreground: colorNumber(style.foreground), background: colorNumber(style.background))
        if key.foreground == -1 && key.background == -1 { return 0 }
        if let pair = pairs[key] { return pair }
        if nextPair >= maxPairs {
            reset_color_pairs()
            pairs.removeAll()
            nextPair = 1
            shown = nil
        }
        let pair = nextPair
        nextPair += 1
        init_extended_pair(pair, key.foreground, key.background)
        pairs[key] = pair
        return pair
    }

    private func colorNumber(_ color: TerminalColor) -> Int32 {
        switch ncursesLevel.resolve(color) {
        case .standard: return -1
        case .indexed(let i):
            if directColor && i >= 8 {
                let c = XtermPalette.rgb(ofIndex: i)
                return Int32(c.r) << 16 | Int32(c.g) << 8 | Int32(c.b)
            }
            return Int32(i)
        case .rgb(let r, let g, let b): return Int32(r) << 16 | Int32(g) << 8 | Int32(b)
        }
    }

    /// 24-bit SGR sequences for cells ncurses could only draw in 256 colours: written over them
    /// after the refresh, run by run.
    private func trueColorBytes(_ grid: CellGrid, cells: [(x: Int, y: Int)]) -> [UInt8] {
        var out = "\u{1B}7"
        var lastX = -2, lastY = -2
        var lastStyle: CellStyle?
        for (x, y) in cells {
            let cell = grid[x, y]
            if cell.isContinuation { continue }
            if y != lastY || x != lastX + 1 { out += "\u{1B}[\(y + 1);\(x + 1)H" }
            if cell.style != lastStyle { out += cell.style.sgr; lastStyle = cell.style }
            out += cell.character
            lastX = x + DisplayWidth.of(Character(cell.character)) - 1
            lastY = y
        }
        out += "\u{1B}[0m\u{1B}8"
        return Array(out.utf8)
    }

    // MARK: Signals

    // Signal handlers can reach only globals. These hold no UI state: a flag, and whether the
    // terminal needs restoring. They are read after opaque C calls, so the compiler reloads them.
    nonisolated(unsafe) private static var interruptFlag: sig_atomic_t = 0
    nonisolated(unsafe) private static var terminalActive: sig_atomic_t = 0
    nonisolated(unsafe) private static var previousActions: [Int32: sigaction] = [:]
    nonisolated(unsafe) private static var exitHookInstalled = false

    private static let interruptSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    private static let crashSignals: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT]

    /// Leaves the alternate screen, shows the cursor, turns mouse reporting and colours off, and
    /// puts the tty back in cooked mode: async-signal-safe calls only (`write`, `tcsetattr`).
    private static let emergencyReset: [UInt8] = Array(
        "\u{1B}[?1000l\u{1B}[?1002l\u{1B}[?1006l\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l\r\n".utf8)
    nonisolated(unsafe) private static var cookedMode = termios()

    private static func installSignalHandlers() {
        _ = tcgetattr(STDIN_FILENO, &cookedMode)
        _ = emergencyReset.count   // initialise the static here, not inside a signal handler
        interruptFlag = 0
        // A parent may have left these blocked (a thread pool that spawned us, a harness); a UI
        // that never sees SIGWINCH or SIGINT cannot resize or quit cleanly.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for sig in interruptSignals + [SIGWINCH, SIGTSTP, SIGCONT] { sigaddset(&unblock, sig) }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        for sig in interruptSignals + crashSignals {
            var action = sigaction()
            sigemptyset(&action.sa_mask)
            if interruptSignals.contains(sig) {
                action.__sigaction_handler.sa_handler = { _ in Terminal.interruptFlag = 1 }
                action.sa_flags = 0   // no SA_RESTART: a blocked read returns at once
            } else {
                action.__sigaction_handler.sa_handler = { sig in Terminal.crashed(sig) }
                action.sa_flags = Int32(truncatingIfNeeded: SA_RESETHAND)   // 0x80000000: does not fit Int32(_:)
            }
            var old = sigaction()
            sigaction(sig, &action, &old)
            previousActions[sig] = old
        }
        if !exitHookInstalled {
            exitHookInstalled = true
            // exit() from anywhere (an argument error, a precondition in a library) restores too.
            atexit { Terminal.restoreTerminalNow() }
        }
    }

    private static func restoreSignalHandlers() {
        for (sig, old) in previousActions {
            var action = old
            sigaction(sig, &action, nil)
        }
        previousActions.removeAll()
    }

    private static func restoreTerminalNow() {
        guard terminalActive != 0 else { return }
        terminalActive = 0
        emergencyReset.withUnsafeBytes { _ = write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &cookedMode)
    }

    /// A crash: restore the terminal, then hand the signal to whoever had it before (Swift's
    /// backtracer prints its report on a usable screen) by re-raising it.
    private static func crashed(_ sig: Int32) {
        restoreTerminalNow()
        if var old = previousActions[sig] {
            sigaction(sig, &old, nil)
        } else {
            signal(sig, SIG_DFL)
        }
        raise(sig)
    }
}
