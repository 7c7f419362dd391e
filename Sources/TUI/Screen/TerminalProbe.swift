import Glibc

/// Asks the terminal what it can do, before ncurses starts: once ncurses reads the keyboard, the
/// answers would arrive as key presses. Raw termios and `poll`, no ncurses.
public enum TerminalProbe {
    /// Sends the queries on the controlling terminal and collects the answers until DA1's arrives
    /// or `timeoutMilliseconds` pass. Nil when there is no terminal to ask.
    public static func query(timeoutMilliseconds: Int = 250) -> TerminalProbeReply? {
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else { return nil }
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }

        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { return nil }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(fd, TCSANOW, &raw) == 0 else { return nil }
        defer { _ = tcsetattr(fd, TCSANOW, &saved) }

        // Cell size, sixel registers, and DA1 last: it is the one every terminal answers.
        let query = Array("\u{1B}[16t\u{1B}[?1;1;0S\u{1B}[c".utf8)
        guard writeAll(fd, query) else { return nil }

        var bytes: [UInt8] = []
        var reply = TerminalProbeReply()
        let deadline = monotonicMilliseconds() + timeoutMilliseconds
        var buffer = [UInt8](repeating: 0, count: 256)
        while !reply.isComplete {
            let left = deadline - monotonicMilliseconds()
            if left <= 0 { break }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(left))
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { break }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
            reply = TerminalProbeReply.parse(bytes)
        }
        if reply.cellPixelSize == nil, let size = windowCellPixelSize(fd) { reply.cellPixelSize = size }
        return reply
    }

    /// TIOCGWINSZ's pixel fields divided by the cell counts, when the terminal fills them in.
    static func windowCellPixelSize(_ fd: Int32) -> Size? {
        var ws = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0, ws.ws_xpixel > 0, ws.ws_ypixel > 0 else {
            return nil
        }
        return Size(width: Int(ws.ws_xpixel) / Int(ws.ws_col), height: Int(ws.ws_ypixel) / Int(ws.ws_row))
    }

    /// The locale's character set (`nl_langinfo(nl_item(CODESET))`), read after `setlocale(LC_ALL, "")`.
    public static func localeCodeset() -> String {
        guard let p = nl_langinfo(nl_item(CODESET)) else { return "" }
        return String(cString: p)
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    static func monotonicMilliseconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
    }
}
