import Engine
import Foundation
import Testing
import TestSupport

/// The real binary in real terminals, on `linstory ui-demo` (the UI on made-up data, no engine):
/// tmux for keys, resizing and a clean exit, xterm under Xvfb for sixel. They need the `ui-demo`
/// command registered in Linstory.swift's subcommands; until it is, they are skipped (the harness
/// itself is tested in TerminalHelperTests).
@Suite("ui-demo end to end: tmux and xterm", .serialized, .enabled(if: UIDemo.registered))
struct UIDemoEndToEndTests {
    @Test(.enabled(if: TmuxSession.available))
    func keysResizeAndQuitInTmux() throws {
        let tmux = try TmuxSession(command: UIDemo.binary + " ui-demo", width: 100, height: 30)
        defer { tmux.kill() }
        try tmux.waitFor("timeline · frame 42 of 240")
        try tmux.send("l")
        try tmux.waitFor("frame 43 of 240")
        try tmux.send("L")
        try tmux.waitFor("frame 60 of 240 · scene 2 of 4")
        try tmux.send("c")
        try tmux.waitFor("removed the cut at frame 60")
        try tmux.send("?")
        try tmux.waitFor("Keys")
        try tmux.send("Escape")
        try tmux.waitUntil("the help to close") { !$0.contains("? or Esc closes this") }
        try tmux.resize(width: 50, height: 15)
        try tmux.waitFor("terminal too small: 50 x 15")
        try tmux.resize(width: 120, height: 35)
        let screen = try tmux.waitFor("timeline · frame 60 of 240")
        #expect(screen.contains("edited, r re-runs"))
        // Colour reaches the terminal: 256-colour SGR in the captured escapes.
        #expect(try tmux.capture(escapes: true).contains("38;5;"))
        try tmux.send("q")
        #expect(try tmux.waitForExit() == 0)
    }

    @Test(.enabled(if: TmuxSession.available))
    func ctrlCLeavesTheTerminalClean() throws {
        // stty runs after the UI exits, in the same terminal: cooked mode and echo must be back.
        let tmux = try TmuxSession(command: "\(UIDemo.binary) ui-demo; echo status=$?; stty -a | tr \" \" \"\\n\" | grep -x -e icanon -e echo -e -icanon -e -echo | tr \"\\n\" \" \"; echo; sleep 30",
                                   width: 100, height: 30)
        defer { tmux.kill() }
        try tmux.waitFor("timeline")
        try tmux.send("C-c")
        let screen = try tmux.waitFor("status=")
        #expect(screen.contains("status=0"))
        try tmux.waitFor("icanon echo")
    }

    @Test(.enabled(if: XtermScreenshot.available))
    func sixelPreviewInXtermMatchesTheImageTheAppRendered() throws {
        let dump = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-dump-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dump, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dump) }
        let xterm = try XtermScreenshot(command: [UIDemo.binary, "ui-demo"], columns: 120, rows: 40,
                                        environment: ["LINSTORY_FRAME_DUMP": dump.path])
        defer { xterm.stop() }
        let indexPath = dump.appendingPathComponent("images.txt").path
        let index = try #require(ExternalProcess.poll(timeout: .seconds(15)) { () -> String? in
            guard let text = try? String(contentsOfFile: indexPath, encoding: .utf8), text.split(separator: "\n").count >= 2 else { return nil }
            return text
        })
        let lines = index.split(separator: "\n").map { $0.split(separator: " ").compactMap { Int($0) } }
        let cell = (w: lines[0][0], h: lines[0][1])
        let target = lines[1]   // K x y width height pixelWidth pixelHeight: the target frame
        let expected = try PNGFile.read(path: dump.appendingPathComponent("image-0.png").path)
        #expect(expected.width == target[5] && expected.height == target[6])
        // Where the image should be: xterm's 2-pixel inner border plus whole cells.
        let origin = (x: 2 + target[1] * cell.w, y: 2 + target[2] * cell.h)
        func error(in shot: RGBImage, dx: Int, dy: Int) -> Double {
            let x = origin.x + dx, y = origin.y + dy
            guard x >= 0, y >= 0, x + expected.width <= shot.width, y + expected.height <= shot.height else { return .infinity }
            let region = shot.cropped(x: x, y: y, width: expected.width, height: expected.height)
            return Double(zip(region.pixels, expected.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(expected.pixels.count)
        }
        func best(_ shot: RGBImage) -> Double {
            var best = Double.infinity
            for dy in -3...3 { for dx in -3...3 { best = min(best, error(in: shot, dx: dx, dy: dy)) } }
            return best
        }
        // The image is there, pixel for pixel up to the palette's rounding.
        let shot = try xterm.waitForScreenshot { best($0) < 4 }
        #expect(best(shot) < 4)
        // Help covers the images: they go, and come back when it closes.
        try xterm.key("question")
        _ = try xterm.waitForScreenshot { best($0) > 20 }
        try xterm.key("Escape")
        _ = try xterm.waitForScreenshot { best($0) < 4 }
        try xterm.key("q")
        #expect(ExternalProcess.poll(timeout: .seconds(10)) { xterm.isRunning ? nil : true } == true)
    }
}
