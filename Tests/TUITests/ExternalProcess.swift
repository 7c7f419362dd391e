import Foundation

/// Small helpers for running the tools the terminal tests drive (tmux, Xvfb, xterm, xdotool,
/// ImageMagick): run-and-wait with output, and looking a tool up on PATH.
enum ExternalProcess {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to completion. `arguments[0]` is looked up on PATH. Output goes through
    /// temporary files, not pipes: `tmux new-session` leaves a server behind that inherits the
    /// output descriptors, and a pipe would then never reach end-of-file.
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:], check: Bool = true) throws -> Output {
        let dir = FileManager.default.temporaryDirectory
        let outPath = dir.appendingPathComponent("linstory-run-\(UUID().uuidString).out").path
        let errPath = dir.appendingPathComponent("linstory-run-\(UUID().uuidString).err").path
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let process = try SpawnedProcess(arguments, environment: environment, stdout: .file(outPath), stderr: .file(errPath))
        let status = process.wait()
        let result = Output(status: status,
                            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
        if check && result.status != 0 {
            throw Failure(description: "\(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result
    }

    /// Under CI (CI=true) a test that needs a tool runs whether or not the tool is there, so that a
    /// missing tool fails it (the harness says which is missing) instead of skipping it silently.
    static var requiredByCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Whether a test that needs `available` runs: when it is, and always under CI.
    static func runs(needing available: Bool) -> Bool { available || requiredByCI }

    /// Throws a failure naming `what` unless `available`: the first line of a test that runs under CI
    /// without its tools.
    static func require(_ available: Bool, _ what: String) throws {
        if !available { throw Failure(description: "\(what) is missing (make test installs the test tools with scripts/setup.sh)") }
    }

    /// True when every tool is on PATH.
    static func available(_ tools: [String]) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return tools.allSatisfy { tool in
            path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
        }
    }

    /// Polls `condition` every `interval` until it returns a value or `timeout` passes.
    static func poll<T>(timeout: Duration, interval: Duration = .milliseconds(50), _ condition: () throws -> T?) rethrows -> T? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if let value = try condition() { return value }
            if clock.now >= deadline { return nil }
            Thread.sleep(forTimeInterval: Double(interval / .milliseconds(1)) / 1000)
        }
    }
}
