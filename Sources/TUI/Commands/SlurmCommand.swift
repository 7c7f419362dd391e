import ArgumentParser
import Engine
import Foundation

/// `linstory slurm VIDEO ... --tasks N`: a film on a Slurm cluster. The session is prepared here
/// (the one decode: detection, cuts and the frame store), then an sbatch array runs one shard a task
/// (`linstory invert ... --shard I/N`, a log per task) and a finalize job waits for all of them
/// (`afterok`). Submitting again runs only the shards that are not complete.
struct SlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Invert a video on a Slurm cluster: one shard of whole scenes per array task, then finalize.",
        discussion: """
            The session folder must be on a filesystem every node sees. The scripts and logs go in
            SESSION/slurm/METHOD/. Every invert option means the same here and is passed to each task.
            Again after failed or cancelled tasks: only the shards not complete are submitted, with a
            new finalize job (the old one, which would wait forever, is cancelled). --dry-run writes and
            prints the scripts without submitting. Watch with linstory status SESSION.
            """)

    @OptionGroup var options: InversionOptions
    @Option(help: "Array tasks (shards of whole scenes, balanced by frames).") var tasks: Int
    @Option(help: "Slurm partition (default: the cluster's).") var partition: String?
    @Option(help: "Time limit per task, as sbatch takes it (e.g. 4:00:00).") var time: String?
    @Option(help: "CPUs per task (the task's worker threads).") var cpusPerTask: Int = 1
    @Option(help: "Memory per task, as sbatch takes it (e.g. 8G).") var mem: String?
    @Option(help: "More sbatch options for both jobs, e.g. --extra=--account=proj (repeatable).") var extra: [String] = []
    @Flag(help: "Write and print the scripts; submit nothing.") var dryRun = false

    func validate() throws {
        if tasks < 1 { throw ValidationError("--tasks must be at least 1") }
        if cpusPerTask < 1 { throw ValidationError("--cpus-per-task must be at least 1") }
    }

    func run() throws {
        Interrupt.install()
        let method = options.method
        let out = URL(fileURLWithPath: options.out).standardizedFileURL.path
        if !dryRun { _ = try SlurmClient.tool("sbatch") }
        // The session first: the one decode, the cuts, the method's record (under the session's lock, so
        // a task that starts early finds them made).
        let context = try ModelContext(model: options.model)
        try options.checkFiles(generator: context.generator)
        var prepared: SessionPreparation
        do {
            let lock = try SessionLock(folder: out)
            prepared = try CommandSession.prepare(
                video: options.video, model: options.model, out: out, resolution: context.generator.config.imgResolution, fit: options.fit,
                window: options.frames?.range, cutsFile: options.cuts)
            try options.run.adopt(session: &prepared.session)
            withExtendedLifetime(lock) {}
        }
        let session = prepared.session
        let progress = SessionProgress.measure(session: session, scenes: prepared.cuts!.scenes)
        let local = SessionRun.localScenes(prepared.cuts!.scenes, first: session.manifest.first, count: session.manifest.count)
        let saved = session.savedFrames(method: method, count: session.manifest.count)
        let assignment = SessionShard.assign(sizes: local.map(\.frames.count), shards: tasks)
        let pending = assignment.indices.filter { k in local[assignment[k]].contains { $0.frames.contains { saved[$0] == nil } } }.map { $0 + 1 }
        let finalized = progress.methods.first { $0.method == method.rawValue }?.finalized ?? false
        if pending.isEmpty && finalized {
            print("nothing to do: \(method.rawValue) is finalized in \(out)")
            return
        }

        let dir = "\(out)/slurm/\(method.rawValue)"
        try FileManager.default.createDirectory(atPath: dir + "/logs", withIntermediateDirectories: true)
        let jobsPath = dir + "/jobs.json"
        let previous = Self.readJobs(jobsPath)
        if !dryRun, let previous {
            // Tasks of the last submission still queued or running would do the same shards twice.
            let live = SlurmClient.live(job: previous.array)
            if !live.isEmpty {
                throw LinstoryError(.invalidValue, file: jobsPath, "job \(previous.array) still has tasks queued or running (\(live.joined(separator: ", "))); wait for them or scancel \(previous.array), then submit again")
            }
        }
        let linstory = Self.executable
        let arrayScript = dir + "/array.sbatch", finalizeScript = dir + "/finalize.sbatch"
        var header = ["#SBATCH --cpus-per-task=\(cpusPerTask)"]
        if let partition { header.append("#SBATCH --partition=\(partition)") }
        if let time { header.append("#SBATCH --time=\(time)") }
        if let mem { header.append("#SBATCH --mem=\(mem)") }
        header += extra.map { "#SBATCH \($0)" }
        let invert = ([linstory, "invert"] + options.arguments).map(SlurmClient.quoted).joined(separator: " ")
        let array = """
            #!/bin/bash
            # linstory: \(method.rawValue) over \(out), one shard of \(tasks) per array task (written by linstory slurm).
            #SBATCH --job-name=linstory-\(method.rawValue)
            #SBATCH --array=\(pending.isEmpty ? "1" : SlurmClient.arraySpec(pending))
            #SBATCH --output=\(Self.directive(dir + "/logs/shard-%a-of-\(tasks).%A.out"))
            \(header.joined(separator: "\n"))
            set -euo pipefail
            export LINSTORY_THREADS="${SLURM_CPUS_PER_TASK:-\(cpusPerTask)}"
            exec \(invert) --shard "${SLURM_ARRAY_TASK_ID}/\(tasks)"

            """
        let finalize = """
            #!/bin/bash
            # linstory: builds \(method.rawValue)'s latents, metrics and video once every shard is done.
            #SBATCH --job-name=linstory-\(method.rawValue)-finalize
            #SBATCH --output=\(Self.directive(dir + "/logs/finalize.%j.out"))
            \(header.joined(separator: "\n"))
            set -euo pipefail
            export LINSTORY_THREADS="${SLURM_CPUS_PER_TASK:-\(cpusPerTask)}"
            exec \([linstory, "finalize", out, "--method", method.rawValue].map(SlurmClient.quoted).joined(separator: " "))

            """
        try AtomicFile.write(Data(array.utf8), to: arrayScript)
        try AtomicFile.write(Data(finalize.utf8), to: finalizeScript)
        chmod(arrayScript, 0o755)
        chmod(finalizeScript, 0o755)

        if dryRun {
            print("# \(arrayScript)\n\(array)")
            print("# \(finalizeScript)\n\(finalize)")
            print(pending.isEmpty ? "every shard is complete: only the finalize job would run" : "would submit shards \(SlurmClient.arraySpec(pending)) of \(tasks), then finalize (afterok)")
            return
        }
        if let previous, let old = previous.finalize {
            // A finalize job whose array failed waits forever (DependencyNeverSatisfied): the new one replaces it.
            try? SlurmClient.cancel(job: old)
        }
        var arrayID: String?
        if !pending.isEmpty {
            arrayID = try SlurmClient.submit([arrayScript])
        }
        let finalizeID = try SlurmClient.submit((arrayID.map { ["--dependency=afterok:\($0)"] } ?? []) + [finalizeScript])
        let record = Jobs(array: arrayID ?? "", finalize: finalizeID, shards: pending, tasks: tasks, submitted: Date())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try AtomicFile.write(try encoder.encode(record), to: jobsPath)
        if let arrayID {
            print("submitted shards \(SlurmClient.arraySpec(pending)) of \(tasks): job \(arrayID) (\(pending.count) tasks); finalize: job \(finalizeID) (afterok)")
        } else {
            print("every shard is complete; submitted finalize: job \(finalizeID)")
        }
        print("watch: linstory status \(out)   squeue -j \(([arrayID, finalizeID].compactMap { $0 }).joined(separator: ","))   logs: \(dir)/logs/")
        print("after failed or cancelled tasks, run this command again: it submits only the shards not complete")
    }

    /// What was submitted last, kept in the session (SESSION/slurm/METHOD/jobs.json).
    struct Jobs: Codable {
        var array: String
        var finalize: String?
        var shards: [Int]
        var tasks: Int
        var submitted: Date
    }

    static func readJobs(_ path: String) -> Jobs? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return FileManager.default.contents(atPath: path).flatMap { try? decoder.decode(Jobs.self, from: $0) }
    }

    /// A value on an #SBATCH line: sbatch splits them at spaces unless double-quoted.
    static func directive(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\t" }) ? "\"\(value)\"" : value
    }

    /// This linstory's own path, for the tasks to run (the same build on a shared filesystem).
    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
