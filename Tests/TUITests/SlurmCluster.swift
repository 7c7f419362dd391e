import Foundation
import Glibc

// Over 400 lines on purpose: starting, probing and stopping three daemons whatever happens is one job,
// and its parts (ports, config, pid files, the sweep) are not used apart.

/// A private one-node Slurm cluster (Debian's slurm-wlm 22.05 and munge), started for one test in a
/// folder of its own, on ports of its own, with a munged of its own on a socket in that folder: two
/// test runs at once never meet, and nothing under /etc is read or written
/// (../shared/slurm-testing.md). Client commands reach it through `SLURM_CONF` (see `environment`).
///
/// The daemons outlive the test process unless stopped, so always stop the cluster in a `defer`
/// right after starting it; a failed expectation or a thrown error then still stops it:
///
///     let cluster = try SlurmCluster()
///     defer { cluster.stop() }
///     let array = try cluster.submit(["--array=0-2", "-c", "1", script])
///     try cluster.submit(["-d", "afterok:\(array)", "--wrap", "touch done"])
///     try cluster.waitUntilNoJobs(timeout: 30)
///
/// `stop()` cancels every job, stops slurmd, slurmctld and munged by their pid files (SIGTERM, then
/// SIGKILL), kills anything left that belongs to this cluster (slurmstepd and job processes, found by
/// the cluster's SLURM_CONF in their environment) and removes the folder. It is idempotent and
/// `deinit` calls it too. A failed `init` stops what it had started before throwing.
///
/// Facts worth knowing (found by trying, slurm-wlm 22.05):
/// - Accounting is off: a job's state comes from `scontrol show job`, which keeps finished jobs for
///   MinJobAge (300 s by default), so `jobState` still answers after a job has left `squeue`.
/// - A job whose `afterok` dependency was cancelled or failed is not cancelled: it stays PENDING with
///   Reason=DependencyNeverSatisfied for ever (Slurm's default; `kill_invalid_depend` in
///   SchedulerParameters would cancel it). `waitUntilNoJobs` then times out unless it is cancelled.
/// - slurmstepd survives slurmd: killing the daemons does not kill running jobs, hence the sweep.
/// - Scheduling runs about once a second here (SchedulerParameters below); with Slurm's defaults each
///   step of an array-then-dependency chain waits about 3 s.
final class SlurmCluster {
    /// The programs the cluster and its tests need.
    static let tools = ["slurmctld", "slurmd", "sbatch", "squeue", "scancel", "scontrol", "sinfo", "munged", "munge"]

    /// True when every tool is on PATH.
    static var available: Bool { ExternalProcess.available(tools) }

    /// The private folder: slurm.conf, the munge key and socket, state, spool, pid and log files.
    /// Tests may put their scripts and outputs here too; `stop()` removes it.
    let directory: String
    /// The slurm.conf every client command reads (through SLURM_CONF).
    let configPath: String
    let mungeSocket: String
    /// The node's name: the machine's short host name, as slurmd registers under it.
    let nodeName: String
    /// The CPUs the node offers (array tasks run this many at a time with `-c 1`).
    let cpus: Int
    let controllerPort: Int
    let nodePort: Int
    /// The one partition, the default.
    let partition = "main"

    private var stopped = false
    /// Set once the node was idle: only then is slurmctld asked to cancel jobs when stopping (a
    /// client command waits many seconds for a slurmctld that is not answering).
    private var up = false
    /// Pids read from the pid files once the daemons were up, in case a daemon removes its file.
    private var knownPids: [String: pid_t] = [:]

    private static let daemons = ["slurmd", "slurmctld", "munged"]   // the order they are stopped in

    /// Starts munged, slurmctld and slurmd and waits (up to a minute) until the node is idle.
    /// `cpus` defaults to the machine's CPU count; more than the machine has also works (slurmd takes
    /// the configured counts as given).
    init(cpus: Int? = nil) throws {
        try ExternalProcess.require(Self.available, "slurm-wlm and munge (\(Self.tools.joined(separator: ", ")))")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-slurm-\(UUID().uuidString)").path
        configPath = directory + "/slurm.conf"
        mungeSocket = directory + "/munge.sock"
        nodeName = Self.shortHostName()
        self.cpus = max(1, cpus ?? ProcessInfo.processInfo.activeProcessorCount)
        (controllerPort, nodePort) = try Self.twoFreePorts()
        do {
            try start()
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// What a client command (sbatch, squeue, scancel, scontrol, sinfo) needs to reach this cluster.
    var environment: [String: String] {
        ["SLURM_CONF": configPath, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
    }

    /// Runs a client command against this cluster; with `check`, a non-zero exit throws.
    @discardableResult
    func run(_ arguments: [String], check: Bool = true) throws -> ExternalProcess.Output {
        try ExternalProcess.run(arguments, environment: environment, check: check)
    }

    /// `sbatch --parsable` with `arguments`; returns the job id (for an array, the array's id).
    @discardableResult
    func submit(_ arguments: [String]) throws -> String {
        let out = try run(["sbatch", "--parsable"] + arguments).stdout
        let id = out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw ExternalProcess.Failure(description: "sbatch \(arguments.joined(separator: " ")) printed no job id: \(out)")
        }
        return id
    }

    /// `scancel` with `arguments` (a job id, "JOB_TASK", or options).
    func cancel(_ arguments: String...) throws {
        try run(["scancel"] + arguments)
    }

    /// The ids of the jobs squeue lists (pending, running, completing), array tasks as "JOB_TASK" or
    /// "JOB_[range]".
    func queuedJobs() throws -> [String] {
        try run(["squeue", "-h", "-o", "%i"]).stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Polls squeue until it lists no job; throws with what it still lists after `timeout` seconds.
    func waitUntilNoJobs(timeout: Double) throws {
        var last: [String] = []
        let empty = try ExternalProcess.poll(timeout: .milliseconds(Int(timeout * 1000)), interval: .milliseconds(200)) { () throws -> Bool? in
            last = try queuedJobs()
            return last.isEmpty ? true : nil
        }
        if empty == nil {
            let queue = (try? run(["squeue", "-o", "%i %T %r"], check: false).stdout) ?? ""
            throw ExternalProcess.Failure(description: "jobs still queued after \(timeout) s: \(last.joined(separator: " "))\n\(queue)\n\(logTail())")
        }
    }

    /// The records `scontrol show job` prints for `id` (one per array task or still unsplit group of
    /// tasks), each as its Key=Value fields; empty when Slurm does not know the job (any more).
    func jobRecords(_ id: String) -> [[String: String]] {
        guard let out = try? run(["scontrol", "-o", "show", "job", id], check: false), out.status == 0 else { return [] }
        return out.stdout.split(separator: "\n").map(Self.parseRecord).filter { !$0.isEmpty }
    }

    /// A job's state (PENDING, RUNNING, COMPLETING, COMPLETED, CANCELLED, FAILED, TIMEOUT, ...), from
    /// `scontrol show job`; for an array id, the first record's (use `arrayTaskStates`); nil when
    /// Slurm does not know the job.
    func jobState(_ id: String) -> String? {
        jobRecords(id).first?["JobState"]
    }

    /// Why a job waits or ended as it did (None, Resources, Dependency, DependencyNeverSatisfied, ...).
    func jobReason(_ id: String) -> String? {
        jobRecords(id).first?["Reason"]
    }

    /// The state of each task of array job `id`, by task index; tasks still pending together share
    /// their group's state.
    func arrayTaskStates(_ id: String) -> [Int: String] {
        var states: [Int: String] = [:]
        for record in jobRecords(id) {
            guard let tasks = record["ArrayTaskId"], let state = record["JobState"] else { continue }
            for task in Self.expandTaskRange(tasks) { states[task] = state }
        }
        return states
    }

    /// Polls until `jobState(id)` is one of `states`; returns it, or throws with the last state seen.
    @discardableResult
    func waitForJobState(_ id: String, in states: Set<String>, timeout: Double) throws -> String {
        var last: String?
        let state = ExternalProcess.poll(timeout: .milliseconds(Int(timeout * 1000)), interval: .milliseconds(100)) { () -> String? in
            last = jobState(id)
            return last.flatMap { states.contains($0) ? $0 : nil }
        }
        guard let state else {
            throw ExternalProcess.Failure(description: "job \(id) is \(last ?? "unknown"), not \(states.sorted().joined(separator: "/")), after \(timeout) s\n\(logTail())")
        }
        return state
    }

    /// The processes that belong to this cluster: its daemons, slurmstepd and the jobs' processes
    /// (everything with this cluster's SLURM_CONF in its environment, or its folder on its command
    /// line). Empty once `stop()` has run.
    func processes() -> [(pid: pid_t, command: String)] {
        let me = getpid()
        let marker = "SLURM_CONF=\(configPath)"
        var found: [(pid: pid_t, command: String)] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), pid != me, Self.isAlive(pid) else { continue }
            let command = Self.commandLine(pid)
            let environ = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))) ?? Data()
            let variables = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if variables.contains(marker) || command.contains(directory) {
                found.append((pid, command))
            }
        }
        return found
    }

    /// The last lines of the daemons' logs (and what they printed while starting), for failure messages.
    func logTail(lines: Int = 25) -> String {
        let files = ["slurmctld.log", "slurmd.log", "munged.log", "slurmctld.stderr", "slurmd.stderr", "munged.stderr"]
        return files.compactMap { name -> String? in
            guard let text = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8), !text.isEmpty else { return nil }
            let tail = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
            return "--- \(name) (last \(lines) lines) ---\n\(tail)"
        }.joined(separator: "\n")
    }

    /// Cancels every job, stops the daemons (SIGTERM, SIGKILL after a few seconds), kills whatever of
    /// the cluster is left and removes the folder. Safe to call more than once.
    func stop() {
        guard !stopped else { return }
        stopped = true
        if up, let pid = daemonPid("slurmctld"), Self.isAlive(pid) {
            _ = try? run(["scancel", "-u", Self.userName()], check: false)
            _ = ExternalProcess.poll(timeout: .seconds(5), interval: .milliseconds(100)) { () -> Bool? in
                guard let out = try? run(["squeue", "-h", "-o", "%i"], check: false), out.status == 0 else { return true }
                return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? true : nil
            }
        }
        for daemon in Self.daemons {
            if let pid = daemonPid(daemon) { Self.terminate(pid, grace: .seconds(5)) }
        }
        // slurmstepd outlives slurmd, slurmscriptd outlives slurmctld for a moment, and a job that
        // ignores SIGTERM outlives scancel: kill whatever still carries this cluster's SLURM_CONF.
        for (pid, _) in processes() { Self.terminate(pid, grace: .seconds(1)) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Starting

    private func start() throws {
        let files = FileManager.default
        // Searchable by all, as munged wants for its socket's folder; the key and state stay private.
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        for sub in ["state", "spool"] {
            try files.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }

        // munge: a key of 1024 random bytes that only its owner may read, and munged on a private socket.
        var generator = SystemRandomNumberGenerator()
        let key = Data((0..<1024).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        let keyPath = directory + "/munge.key"
        guard files.createFile(atPath: keyPath, contents: key, attributes: [.posixPermissions: 0o400]) else {
            throw ExternalProcess.Failure(description: "cannot write \(keyPath)")
        }
        try launch("munged", ["munged", "--socket=\(mungeSocket)", "--key-file=\(keyPath)", "--pid-file=\(directory)/munged.pid",
                              "--log-file=\(directory)/munged.log", "--seed-file=\(directory)/munge.seed", "--force"])
        let credential = try? ExternalProcess.run(["munge", "-n", "-S", mungeSocket], check: false)
        guard let credential, credential.status == 0 else {
            throw ExternalProcess.Failure(description: "munged on \(mungeSocket) does not answer: \(credential?.stderr ?? "")\n\(logTail())")
        }

        let pluginConfig = directory + "/plugstack.conf"
        guard files.createFile(atPath: pluginConfig, contents: Data()),
              files.createFile(atPath: configPath, contents: Data(configuration(pluginConfig: pluginConfig).utf8)) else {
            throw ExternalProcess.Failure(description: "cannot write \(configPath)")
        }
        try launch("slurmctld", ["slurmctld", "-f", configPath])
        try launch("slurmd", ["slurmd", "-f", configPath])

        var last = ""
        let idle = ExternalProcess.poll(timeout: .seconds(60), interval: .milliseconds(100)) { () -> Bool? in
            guard let out = try? run(["sinfo", "-h", "-o", "%T"], check: false) else { return nil }
            last = (out.stdout + out.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
            return out.status == 0 && last == "idle" ? true : nil
        }
        guard idle != nil else {
            throw ExternalProcess.Failure(description: "the Slurm node \(nodeName) never became idle in 60 s (sinfo said: \(last.isEmpty ? "nothing" : last))\n\(logTail())")
        }
        for daemon in Self.daemons { knownPids[daemon] = Self.readPid(directory + "/\(daemon).pid") }
        up = true
    }

    /// Starts a daemon that detaches itself: its stdout and stderr go to files in the folder (never
    /// to the test's descriptors), and its environment carries SLURM_CONF, which marks it and its
    /// children as this cluster's (`processes()`).
    private func launch(_ name: String, _ arguments: [String]) throws {
        let process = try SpawnedProcess(arguments, environment: environment,
                                         stdout: .file("\(directory)/\(name).stdout"), stderr: .file("\(directory)/\(name).stderr"))
        let status = process.wait()   // the first process exits once the daemon has forked
        guard status == 0 else {
            throw ExternalProcess.Failure(description: "\(arguments.joined(separator: " ")) exited \(status)\n\(logTail())")
        }
    }

    private func configuration(pluginConfig: String) -> String {
        let user = Self.userName()
        return """
            # A private one-node cluster for one test (Tests/TUITests/SlurmCluster.swift).
            ClusterName=linstory-test
            SlurmctldHost=\(nodeName)(127.0.0.1)
            SlurmctldPort=\(controllerPort)
            SlurmdPort=\(nodePort)
            AuthType=auth/munge
            AuthInfo=socket=\(mungeSocket)
            CredType=cred/munge
            SlurmUser=\(user)
            SlurmdUser=\(user)
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            SelectType=select/cons_tres
            SelectTypeParameters=CR_CPU
            SlurmdParameters=config_overrides
            SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
            ReturnToService=2
            KillWait=2
            MailProg=/bin/true
            PlugStackConfig=\(pluginConfig)
            StateSaveLocation=\(directory)/state
            SlurmdSpoolDir=\(directory)/spool
            SlurmctldPidFile=\(directory)/slurmctld.pid
            SlurmdPidFile=\(directory)/slurmd.pid
            SlurmctldLogFile=\(directory)/slurmctld.log
            SlurmdLogFile=\(directory)/slurmd.log
            NodeName=\(nodeName) NodeAddr=127.0.0.1 CPUs=\(cpus) RealMemory=\(Self.safeRealMemory()) State=UNKNOWN
            PartitionName=\(partition) Nodes=\(nodeName) Default=YES MaxTime=INFINITE State=UP

            """
    }

    // MARK: Helpers

    private func daemonPid(_ name: String) -> pid_t? {
        guard let pid = Self.readPid(directory + "/\(name).pid") ?? knownPids[name] else { return nil }
        // A pid file may outlive its daemon and the pid be reused: only this cluster's daemon counts.
        return Self.commandLine(pid).contains(directory) ? pid : nil
    }

    private static func readPid(_ path: String) -> pid_t? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// A process's command line, arguments joined by spaces; empty when it is gone.
    private static func commandLine(_ pid: pid_t) -> String {
        let raw = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        return raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
    }

    /// Alive and not a zombie (a daemon's exited parent may linger unreaped under some inits).
    private static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }

    /// SIGTERM, then SIGKILL if it is still there after `grace`.
    private static func terminate(_ pid: pid_t, grace: Duration) {
        guard isAlive(pid) else { return }
        kill(pid, SIGTERM)
        if ExternalProcess.poll(timeout: grace, { isAlive(pid) ? nil : true }) == nil {
            kill(pid, SIGKILL)
            _ = ExternalProcess.poll(timeout: .seconds(2)) { isAlive(pid) ? nil : true }
        }
    }

    /// The machine's host name up to the first dot: the name slurmd registers under.
    private static func shortHostName() -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let name = gethostname(&buffer, buffer.count - 1) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self) : ProcessInfo.processInfo.hostName
        return String(name.split(separator: ".").first ?? "localhost")
    }

    private static func userName() -> String {
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "root"
    }

    /// Memory the node declares, in MB: a node that declares more than it has is drained, so half of
    /// MemTotal, at most 1 GB (memory is not a consumable resource with CR_CPU anyway).
    private static func safeRealMemory() -> Int {
        let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let totalKB = meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
        return max(1, min(1024, totalKB / 1024 / 2))
    }

    /// Two distinct free TCP ports, below the kernel's ephemeral range (32768 and up) so no outgoing
    /// connection takes one between choosing it and the daemon binding it.
    private static func twoFreePorts() throws -> (Int, Int) {
        var chosen: [Int] = []
        var held: [Int32] = []
        defer { held.forEach { close($0) } }
        for _ in 0..<200 where chosen.count < 2 {
            let port = Int.random(in: 20000..<32000)
            guard !chosen.contains(port), let fd = bindTCP(port) else { continue }
            held.append(fd)
            chosen.append(port)
        }
        guard chosen.count == 2 else { throw ExternalProcess.Failure(description: "no free TCP ports for Slurm") }
        return (chosen[0], chosen[1])
    }

    /// A TCP socket bound to `port` on every address, or nil when the port is taken.
    private static func bindTCP(_ port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: INADDR_ANY)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            close(fd)
            return nil
        }
        return fd
    }

    /// One line of `scontrol -o show job` as fields. Values may hold spaces (a job name, a path): a
    /// word without "=" belongs to the value before it.
    static func parseRecord(_ line: Substring) -> [String: String] {
        var record: [String: String] = [:]
        var lastKey: String?
        for word in line.split(separator: " ") {
            if let eq = word.firstIndex(of: "="), eq != word.startIndex,
               word[..<eq].allSatisfy({ $0.isLetter || $0.isNumber || "/:_".contains($0) }) {
                let key = String(word[..<eq])
                record[key] = String(word[word.index(after: eq)...])
                lastKey = key
            } else if let key = lastKey {
                record[key, default: ""] += " " + word
            }
        }
        return record
    }

    /// "0-2,5,7-8%2" → [0, 1, 2, 5, 7, 8] (a "%N" throttle suffix is dropped).
    static func expandTaskRange(_ text: String) -> [Int] {
        let spec = text.split(separator: "%").first ?? ""
        return spec.split(separator: ",").flatMap { part -> [Int] in
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            switch bounds.count {
            case 1: return bounds
            case 2 where bounds[0] <= bounds[1]: return Array(bounds[0]...bounds[1])
            default: return []
            }
        }
    }
}
