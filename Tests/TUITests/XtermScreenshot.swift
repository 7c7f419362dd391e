import Engine
import Foundation
import Glibc

/// A real xterm in VT340 mode (it draws sixel) on a private Xvfb display, for tests that must see
/// pixels (../shared/terminal-testing.md, "Sixel images"). Keys go in through xdotool (XTEST; focus
/// follows the pointer), screenshots come out through ImageMagick's `import`.
///
///     let xterm = try XtermScreenshot(command: ["sh", "-c", "cat image.six; sleep 60"], columns: 80, rows: 30)
///     defer { xterm.stop() }
///     let shot = try xterm.waitForScreenshot { $0.boundingBox(of: (255, 0, 0)) != nil }
final class XtermScreenshot {
    let display: String
    let columns: Int
    let rows: Int
    private let xvfb: SpawnedProcess
    private var xterm: SpawnedProcess?
    private let scratch: URL

    static var available: Bool { ExternalProcess.available(["Xvfb", "xterm", "xdotool", "import"]) }

    /// Starts Xvfb on a free display (it picks one and prints it: -displayfd) and xterm on it
    /// running `command`. `vt340: false` starts xterm as its default VT420, which has no sixel:
    /// the negative control.
    init(command: [String], columns: Int = 100, rows: Int = 40, fontSize: Int = 10, vt340: Bool = true,
         environment: [String: String] = [:]) throws {
        try ExternalProcess.require(Self.available, "Xvfb, xterm, xdotool or ImageMagick's import")
        self.columns = columns
        self.rows = rows
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-xterm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)

        // Xvfb picks a free display and writes its number to the descriptor given with -displayfd
        // once it accepts connections.
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ExternalProcess.Failure(description: "pipe failed") }
        xvfb = try SpawnedProcess(["Xvfb", "-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                  stdout: .descriptor(fds[1]))
        close(fds[1])
        defer { close(fds[0]) }
        var number = ""
        var byte: UInt8 = 0
        while !number.hasSuffix("\n") {
            var pfd = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 10_000) > 0, read(fds[0], &byte, 1) == 1 else { break }
            number.append(Character(Unicode.Scalar(byte)))
        }
        let trimmed = number.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            xvfb.terminate()
            throw ExternalProcess.Failure(description: "Xvfb did not report a display")
        }
        display = ":" + trimmed

        var args = ["xterm"]
        if vt340 {
            args += ["-ti", "vt340", "-xrm", "XTerm*decTerminalID: vt340", "-xrm", "XTerm*numColorRegisters: 256"]
        }
        args += ["-tn", "xterm-256color", "-fa", "DejaVu Sans Mono", "-fs", String(fontSize),
                 "-geometry", "\(columns)x\(rows)+0+0", "-e"] + command
        xterm = try SpawnedProcess(args, environment: ["DISPLAY": display, "LANG": "C.UTF-8"].merging(environment) { $1 })
    }

    deinit { stop() }

    /// Presses keys in xterm (xdotool key names: "l", "q", "Right", "question").
    func key(_ keys: String...) throws {
        // The pointer inside the window gives it focus; xterm ignores `key --window`.
        try ExternalProcess.run(["xdotool", "mousemove", "200", "200", "key", "--delay", "30"] + keys, environment: ["DISPLAY": display])
    }

    /// The whole screen as an image.
    func screenshot() throws -> RGBImage {
        let path = scratch.appendingPathComponent("shot-\(UUID().uuidString).png").path
        try ExternalProcess.run(["import", "-window", "root", path], environment: ["DISPLAY": display])
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try PNGFile.read(path: path)
    }

    /// Takes screenshots until one satisfies `condition`; throws after `timeout` with the last one
    /// saved for a look.
    /// The default timeout is a hang guard (TmuxSession.hangGuard), not a speed requirement.
    func waitForScreenshot(timeout: Duration = TmuxSession.hangGuard, _ condition: (RGBImage) -> Bool) throws -> RGBImage {
        var last: RGBImage?
        let shot = try ExternalProcess.poll(timeout: timeout, interval: .milliseconds(200)) { () throws -> RGBImage? in
            let image = try screenshot()
            last = image
            return condition(image) ? image : nil
        }
        if let shot { return shot }
        let saved = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-xterm-timeout.png").path
        if let last { try? PNGFile.write(last, to: saved) }
        throw ExternalProcess.Failure(description: "timed out waiting for the screenshot; the last one is \(saved)")
    }

    /// True while xterm (and so the command in it) runs.
    var isRunning: Bool { xterm?.isRunning ?? false }

    func stop() {
        xterm?.terminate()
        xterm = nil
        xvfb.terminate()
        try? FileManager.default.removeItem(at: scratch)
    }
}
