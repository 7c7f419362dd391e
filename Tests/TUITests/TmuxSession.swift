import Foundation

/// A command running in a detached tmux session of a given size, on a private server socket so
/// tests never touch anyone's tmux (../shared/terminal-testing.md, "Text and colour: tmux"). Keys
/// go in with `send`, the screen comes out with `capture`; `waitFor` polls instead of sleeping.
///
///     let tmux = try TmuxSession(command: ".build/release/linstory", width: 100, height: 30)
///     defer { tmux.kill() }
///     try tmux.waitFor("timeline")
///     try tmux.send("l", "l", "c")
///     let screen = try tmux.waitFor("cut added")
final class TmuxSession {
    let socket: String
    let target = "t"
    private var socketPath: String?
    private let statusPath: String
    private var killed = false

    static var available: Bool { ExternalProcess.available(["tmux"]) }

    /// Starts `command` (a shell command line) with TERM=tmux-256color and a UTF-8 locale, plus
    /// `environment`. The pane stays after the command exits, so its last screen can still be read.
    init(command: String, width: Int = 100, height: Int = 30, environment: [String: String] = [:]) throws {
        try ExternalProcess.require(Self.available, "tmux")
        socket = "linstory-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        let env = ["TERM": "tmux-256color", "LANG": "C.UTF-8"].merging(environment) { $1 }
        let assignments = env.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quote($0.value))" }.joined(separator: " ")
        statusPath = FileManager.default.temporaryDirectory.appendingPathComponent("\(socket).status").path
        // A shell around the command records its exit status; `trap : INT` keeps that shell alive
        // through a Ctrl-C meant for the command (a handler, unlike an ignore, is not inherited).
        let wrapped = "trap : INT; \(command); echo $? > \(Self.quote(statusPath))"
        // remain-on-exit is set in the same tmux invocation, before the command can finish.
        try tmux(["new-session", "-d", "-s", target, "-x", String(width), "-y", String(height),
                  "env \(assignments) sh -c \(Self.quote(wrapped))", ";", "set-option", "-t", target, "remain-on-exit", "on"])
        socketPath = try? tmux(["display-message", "-p", "#{socket_path}"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit { kill() }

    /// Sends tmux key names ("Right", "Enter", "C-c", "Escape") or single characters.
    func send(_ keys: String...) throws {
        try tmux(["send-keys", "-t", target] + keys)
    }

    /// Types text literally, character by character.
    func type(_ text: String) throws {
        try tmux(["send-keys", "-t", target, "-l", text])
    }

    /// The screen as text; with `escapes`, including SGR colour sequences.
    func capture(escapes: Bool = false) throws -> String {
        try tmux(["capture-pane", "-t", target, "-p"] + (escapes ? ["-e"] : [])).stdout
    }

    /// Polls the screen until it contains `text`; returns that screen, or throws with the last one.
    @discardableResult
    func waitFor(_ text: String, timeout: Duration = TmuxSession.hangGuard) throws -> String {
        try waitUntil(timeout: timeout, "the screen to show \"\(text)\"") { $0.contains(text) }
    }

    /// How long a wait lasts before it calls the command hung. Waits end on the command's own
    /// signals (the screen shows it, or the command exited); this is not a speed requirement, so it
    /// is far longer than anything takes on a slow, busy machine.
    static let hangGuard: Duration = .seconds(90)

    /// Captures (50 ms apart) after the command exits before its last screen is taken as final.
    static let drainPolls = 40

    /// Polls `condition` (given the screen) until it holds; fails at once if the command exits first.
    @discardableResult
    func waitUntil(timeout: Duration = TmuxSession.hangGuard, _ what: String, _ condition: (String) -> Bool) throws -> String {
        var last = ""
        var exited: Int32?
        let screen = try ExternalProcess.poll(timeout: timeout) { () throws -> String? in
            last = try capture()
            if condition(last) { return last }
            exited = try exitStatus()
            guard exited != nil else { return nil }
            // It may have shown what we wait for just before exiting: the pane stays, look again.
            // The status file can come before tmux has read the command's last output from the
            // pty (seen once in a full suite: "got hello" printed, status 3 read, the screen still
            // without it), so give tmux a moment to catch up before calling the wait failed.
            for _ in 0..<Self.drainPolls {
                last = try capture()
                if condition(last) { break }
                usleep(50_000)
            }
            return last
        }
        if let exited, let screen, !condition(screen) {
            throw ExternalProcess.Failure(description: "the command exited (status \(exited)) while waiting for \(what); the screen was:\n\(screen)")
        }
        guard let screen else {
            throw ExternalProcess.Failure(description: "no sign of \(what) after \(timeout) (hung?); the screen was:\n\(last)")
        }
        return screen
    }

    /// Waits until `file` (an append-only log the command writes, e.g. a frame dump's notes.log)
    /// has a line containing `text`; fails at once if the command exits first.
    func waitForLine(_ text: String, in file: String, timeout: Duration = TmuxSession.hangGuard) throws {
        try waitUntil(timeout: timeout, "a line \"\(text)\" in \(file)") { _ in
            ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").contains { $0.contains(text) }
        }
    }

    func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", target, "-x", String(width), "-y", String(height)])
    }

    /// The command's exit status once it has exited, nil while it runs. Read from the file the
    /// wrapper shell writes, not from tmux's #{pane_dead_status}: tmux 3.3a sometimes leaves an
    /// exited pane process unreaped (a zombie), and then never reports its status.
    func exitStatus() throws -> Int32? {
        guard let text = try? String(contentsOfFile: statusPath, encoding: .utf8), text.hasSuffix("\n") else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Waits for the command to exit and returns its status.
    func waitForExit(timeout: Duration = TmuxSession.hangGuard) throws -> Int32 {
        guard let status = try ExternalProcess.poll(timeout: timeout, { try exitStatus() }) else {
            throw ExternalProcess.Failure(description: "the command did not exit; the screen was:\n\(try capture())")
        }
        return status
    }

    /// Stops the server and everything in it.
    func kill() {
        guard !killed else { return }
        killed = true
        _ = try? ExternalProcess.run(["tmux", "-L", socket, "kill-server"], check: false)
        if let socketPath, !socketPath.isEmpty { try? FileManager.default.removeItem(atPath: socketPath) }
        try? FileManager.default.removeItem(atPath: statusPath)
    }

    @discardableResult
    private func tmux(_ arguments: [String]) throws -> ExternalProcess.Output {
        try ExternalProcess.run(["tmux", "-L", socket, "-f", "/dev/null"] + arguments)
    }

    static func quote(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
