import Foundation
import Glibc

/// A child process started with `posix_spawn`, with a clean signal state. Foundation's `Process`
/// passes on the spawning thread's signal mask, and the test runner's threads block nearly every
/// signal: a tmux server started that way never sees SIGCHLD or SIGTERM (kill-server does
/// nothing) and the app inside it would never see SIGWINCH or SIGINT. Here the mask is emptied and
/// the usual signals reset to their defaults, as a shell would start a program.
final class SpawnedProcess {
    enum Stream {
        case null
        case file(String)
        case descriptor(Int32)
    }

    let pid: pid_t
    private var status: Int32?

    /// Starts `arguments[0]` (looked up on PATH) in its own process group, so `terminate` reaches
    /// its children too.
    init(_ arguments: [String], environment: [String: String] = [:], stdout: Stream = .null, stderr: Stream = .null) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (fd, stream) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch stream {
            case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .file(let path): posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            case .descriptor(let d): posix_spawn_file_actions_adddup2(&actions, d, fd)
            }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGCHLD, SIGWINCH, SIGTSTP, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2, SIGALRM] {
            sigaddset(&defaults, sig)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        let argv = (["env"] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, "/usr/bin/env", &actions, &attributes, argv, envp)
        guard rc == 0 else {
            throw ExternalProcess.Failure(description: "cannot start \(arguments.joined(separator: " ")): \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    deinit { terminate() }

    /// The exit status (128 + N after signal N), nil while it runs.
    var exitStatus: Int32? {
        if status == nil { reap(options: WNOHANG) }
        return status
    }

    var isRunning: Bool { exitStatus == nil }

    /// Waits for the process to exit.
    @discardableResult
    func wait() -> Int32 {
        while status == nil { reap(options: 0) }
        return status!
    }

    /// SIGTERM to the process group, then SIGKILL if it has not gone within two seconds.
    func terminate() {
        guard isRunning else { return }
        kill(-pid, SIGTERM)
        if ExternalProcess.poll(timeout: .seconds(2), { isRunning ? nil : true }) == nil {
            kill(-pid, SIGKILL)
            wait()
        }
    }

    private func reap(options: Int32) {
        var raw: Int32 = 0
        let r = waitpid(pid, &raw, options)
        if r == pid {
            status = raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
        } else if r < 0 && errno != EINTR {
            status = -1   // not our child any more (reaped elsewhere): treat as gone
        }
    }
}
