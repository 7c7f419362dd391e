import Foundation

/// The Slurm client commands linstory uses (`sbatch`, `squeue`, `scancel`), run as subprocesses with
/// their output captured: what `linstory slurm` (or a script) needs to submit a session's shards.
/// They read the cluster from the environment as usual (`SLURM_CONF` and the rest).
public enum SlurmClient {
    /// A client command on PATH, or an error saying this is not a machine that submits Slurm jobs.
    public static func tool(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
            return "\(folder)/\(name)"
        }
        throw LinstoryError(.tool, file: name, "not found on PATH (run this on a machine that submits Slurm jobs, or use --dry-run)")
    }

    /// Runs `name` with `arguments` to its end; its standard output, or an error carrying what it
    /// said on standard error. Output goes through files, not pipes (nothing can fill and block).
    public static func run(_ name: String, _ arguments: [String]) throws -> String {
        let executable = try tool(name)
        let base = NSTemporaryDirectory() + "/linstory-\(name)-\(getpid())-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: base + ".out", contents: nil)
        FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: base + ".out")
        process.standardError = FileHandle(forWritingAtPath: base + ".err")
        do {
            try process.run()
        } catch {
            throw LinstoryError(.tool, file: executable, "cannot run: \(error.localizedDescription)")
        }
        process.waitUntilExit()
        let out = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        let err = ((try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let said = err.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            throw LinstoryError(.tool, file: name, "failed (status \(process.terminationStatus))\(said.isEmpty ? "" : ": \(said)")")
        }
        return out
    }

    /// `sbatch --parsable ARGUMENTS`: the new job's id (sbatch says "JOBID" or "JOBID;CLUSTER").
    public static func submit(_ arguments: [String]) throws -> String {
        let said = try run("sbatch", ["--parsable"] + arguments).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let id = said.split(separator: ";").first.map(String.init), !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw LinstoryError(.tool, file: "sbatch", "did not give a job id (said: \(said))")
        }
        return id
    }

    /// The job's tasks still queued or running, as squeue lists them ("12_3 RUNNING"); none once it
    /// is over (squeue forgets a finished job, or says it does not know it).
    public static func live(job: String) -> [String] {
        guard !job.isEmpty, let out = try? run("squeue", ["-h", "-j", job, "-o", "%i %T"]) else { return [] }
        return out.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public static func cancel(job: String) throws {
        _ = try run("scancel", [job])
    }

    /// "1-3,5,7-8": task numbers as sbatch's --array takes them.
    public static func arraySpec(_ tasks: [Int]) -> String { IntegerRuns.text(tasks, separator: ",") }

    /// A word for bash: as it is when plain, else single-quoted.
    public static func quoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "/._-:=+,@%".unicodeScalars.contains($0) }
        return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
