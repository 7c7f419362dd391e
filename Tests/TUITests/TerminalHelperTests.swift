import Engine
import Foundation
import Testing
import TUI

/// The tmux and xterm helpers themselves, on small commands, so that the end-to-end tests built on
/// them later fail for the app's reasons, not the harness's. The xterm test is also the sixel
/// encoder's check in a real terminal: our encoding, shown by xterm, screenshotted.
@Suite("Terminal test harness: tmux and xterm under Xvfb", .serialized)
struct TerminalHelperTests {
    @Test(.enabled(if: ExternalProcess.runs(needing: TmuxSession.available)), .timeLimit(.minutes(1)))
    func tmuxRunsACommandAndReadsItsScreen() throws {
        let tmux = try TmuxSession(command: "sh -c 'printf \"ready %s\\n\" \"$LANG\"; read line; echo \"got $line\"; exit 3'", width: 40, height: 5)
        defer { tmux.kill() }
        try tmux.waitFor("ready C.UTF-8")
        try tmux.type("hello")
        try tmux.send("Enter")
        let screen = try tmux.waitFor("got hello")
        #expect(screen.split(separator: "\n").count <= 5)
        #expect(try tmux.waitForExit() == 3)
    }

    @Test(.enabled(if: ExternalProcess.runs(needing: XtermScreenshot.available)), .timeLimit(.minutes(1)))
    func xtermShowsOurSixelAndOnlyInVT340Mode() throws {
        // Four 48x48 quadrants; xterm's background is white, so none of them is white.
        var pixels: [UInt8] = []
        for y in 0..<96 {
            for x in 0..<96 {
                pixels += y < 48 ? (x < 48 ? [255, 0, 0] : [0, 255, 0]) : (x < 48 ? [0, 0, 255] : [255, 0, 255])
            }
        }
        let image = RGBImage(width: 96, height: 96, pixels: pixels)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-quadrants-\(UUID().uuidString).six")
        try Data(SixelEncoder().encode(image)).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let command = ["sh", "-c", "printf '\\033[3;5H'; cat '\(file.path)'; sleep 60"]

        let xterm = try XtermScreenshot(command: command, columns: 60, rows: 20)
        defer { xterm.stop() }
        let shot = try xterm.waitForScreenshot { $0.boundingBox(of: (255, 0, 255)) != nil }
        let red = try #require(shot.boundingBox(of: (255, 0, 0)))
        let green = try #require(shot.boundingBox(of: (0, 255, 0)))
        let blue = try #require(shot.boundingBox(of: (0, 0, 255)))
        let magenta = try #require(shot.boundingBox(of: (255, 0, 255)))
        // Pixel for pixel: each quadrant 48x48, in place relative to the others.
        for box in [red, green, blue, magenta] { #expect(box.width == 48 && box.height == 48) }
        #expect(green.x == red.x + 48 && green.y == red.y)
        #expect(blue.x == red.x && blue.y == red.y + 48)
        #expect(magenta.x == red.x + 48 && magenta.y == red.y + 48)
        // At the cursor: row 3, column 5 (the image's corner is 4 cells right and 2 down of the text origin).
        #expect(red.x > 0 && red.y > 0)
        xterm.stop()

        // The negative control: xterm's default VT420 has no sixel and draws nothing.
        let vt420 = try XtermScreenshot(command: command, columns: 60, rows: 20, vt340: false)
        defer { vt420.stop() }
        Thread.sleep(forTimeInterval: 1.5)
        let plain = try vt420.screenshot()
        #expect(plain.boundingBox(of: (255, 0, 255)) == nil)
    }
}
