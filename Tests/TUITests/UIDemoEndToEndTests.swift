import Engine
import Foundation
import Testing
import TestSupport

/// The real binary in a real terminal, on `linstory ui-demo` (the UI on made-up data, no engine):
/// tmux for keys, resizing and a clean exit (the real app's tests, sixel in xterm included, are
/// OpenEndToEndTests). They need the `ui-demo`
/// command registered in Linstory.swift's subcommands; until it is, they are skipped (the harness
/// itself is tested in TerminalHelperTests).
@Suite("ui-demo end to end: tmux and xterm", .serialized, .enabled(if: ExternalProcess.runs(needing: UIDemo.registered)))
struct UIDemoEndToEndTests {
    @Test(.enabled(if: ExternalProcess.runs(needing: TmuxSession.available)))
    func keysResizeAndQuitInTmux() throws {
        try ExternalProcess.require(UIDemo.registered, "the release binary with ui-demo (\(UIDemo.binary))")
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

    @Test(.enabled(if: ExternalProcess.runs(needing: TmuxSession.available)))
    func ctrlCLeavesTheTerminalClean() throws {
        try ExternalProcess.require(UIDemo.registered, "the release binary with ui-demo (\(UIDemo.binary))")
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
}
