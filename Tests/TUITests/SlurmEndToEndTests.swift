import Engine
import Foundation
import Testing
import TestSupport

/// `linstory slurm` against a real Slurm cluster (a private one-node cluster, SlurmCluster): the
/// bundled clip as a 4-task array with its finalize job; one task cancelled mid-run with `scancel`;
/// `status` says what is missing; submitting again runs only that shard and a new finalize; the
/// finished session's latents equal a one-process run's bit for bit (at the tasks' thread count).
@Suite("linstory slurm on a real Slurm cluster", .enabled(if: ExternalProcess.runs(needing: SlurmCluster.available)))
struct SlurmEndToEndTests {
    static let binary = CommandLineTests.binary
    static let clip = Fixtures.repoRoot.appendingPathComponent("assets/bbb-cuts.mp4").path
    static let model = Fixtures.repoRoot.appendingPathComponent("assets/bbb64.safetensors").path
    /// Scene at 12 evaluations a frame: a shard takes some seconds on one core, long enough to be
    /// cancelled while it runs.
    static let options = ["--model", model, "--method", "scene", "--budget", "12"]

    struct Progress: Decodable {
        struct Method: Decodable {
            struct Shard: Decodable {
                var index: Int
                var done: Int
                var frames: Int
                var state: String
            }
            var method: String
            var done: Int
            var frames: Int
            var finalized: Bool
            var missing: String
            var shards: [Shard]
            var incompleteShards: [Int]
        }
        var methods: [Method]
    }

    static func status(_ session: String) throws -> Progress.Method {
        let r = try ExternalProcess.run([binary, "status", session, "--json"])
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try #require(try decoder.decode(Progress.self, from: Data(r.stdout.utf8)).methods.first)
    }

    @Test func aCancelledTaskIsSubmittedAgainAndTheSessionEqualsAOneProcessRun() throws {
        try ExternalProcess.require(SlurmCluster.available, "slurm-wlm and munge (\(SlurmCluster.tools.joined(separator: ", ")))")
        try ExternalProcess.require(FileManager.default.isExecutableFile(atPath: Self.binary), "the release binary (\(Self.binary))")
        let cluster = try SlurmCluster()
        defer { cluster.stop() }
        // A space in the path: the scripts must quote it (the #SBATCH lines and the commands).
        let session = cluster.directory + "/film session"
        let environment = cluster.environment

        // Submit: the session is prepared here, then 4 tasks (2 run at once on 2 cores) and finalize.
        let submitted = try ExternalProcess.run(
            [Self.binary, "slurm", Self.clip] + Self.options + ["--out", session, "--tasks", "4"], environment: environment)
        #expect(submitted.stdout.contains("submitted shards 1-4 of 4"), "\(submitted.stdout)")
        let jobs = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: session + "/slurm/scene/jobs.json"))) as? [String: Any]
        let array = try #require(jobs?["array"] as? String)
        let finalize = try #require(jobs?["finalize"] as? String)

        // Cancel the first task seen running, once it has said so in its status file.
        let victim = try #require(ExternalProcess.poll(timeout: .seconds(120), interval: .milliseconds(50)) { () -> Int? in
            let running = cluster.arrayTaskStates(array).filter { $0.value == "RUNNING" }.keys.sorted()
            return running.first { FileManager.default.fileExists(atPath: "\(session)/shards/scene/\($0)-of-4.json") }
        }, "no task of \(array) started: \(cluster.logTail())")
        try cluster.cancel("\(array)_\(victim)")
        // The other tasks finish; finalize waits forever on a failed dependency (Slurm does not cancel it).
        let settled = ExternalProcess.poll(timeout: .seconds(240), interval: .milliseconds(200)) { () -> Bool? in
            let states = cluster.arrayTaskStates(array)
            return states.count == 4 && states.values.allSatisfy { ["COMPLETED", "CANCELLED"].contains($0) } ? true : nil
        }
        #expect(settled == true, "tasks: \(cluster.arrayTaskStates(array)) \(cluster.logTail())")
        #expect(cluster.arrayTaskStates(array)[victim] == "CANCELLED")
        #expect(cluster.jobState(finalize) == "PENDING", "finalize: \(cluster.jobState(finalize) ?? "gone")")

        // status says what is missing: the cancelled shard, not complete, and not finalized.
        let between = try Self.status(session)
        #expect(!between.finalized && between.done < between.frames && !between.missing.isEmpty, "\(between)")
        #expect(between.incompleteShards == [victim], "\(between)")
        #expect(between.shards.first { $0.index == victim }.map { $0.state != "complete" } == true, "\(between.shards)")
        let text = try ExternalProcess.run([Self.binary, "status", session]).stdout
        #expect(text.contains("not complete: shards \(victim) of 4"), "\(text)")

        // Again: only the cancelled shard, a new finalize (the old one cancelled).
        let again = try ExternalProcess.run(
            [Self.binary, "slurm", Self.clip] + Self.options + ["--out", session, "--tasks", "4"], environment: environment)
        #expect(again.stdout.contains("submitted shards \(victim) of 4"), "\(again.stdout)")
        try cluster.waitUntilNoJobs(timeout: 240)
        let after = try Self.status(session)
        #expect(after.finalized && after.done == after.frames, "\(after) \(cluster.logTail())")

        // One process, one thread (the tasks ran with --cpus-per-task 1): the same latents, bit for bit.
        let single = cluster.directory + "/single"
        _ = try ExternalProcess.run(
            [Self.binary, "invert", Self.clip] + Self.options + ["--out", single], environment: ["LINSTORY_THREADS": "1"])
        let names = try GeneratorCheckpoint.load(path: Self.model).generator.synthesis.noiseLayerNames
        let sharded = try SessionFolder.read(folder: session).readLatents(method: .scene, noiseNames: names)
        let whole = try SessionFolder.read(folder: single).readLatents(method: .scene, noiseNames: names)
        #expect(sharded.count == 202 && whole.count == 202)
        let differing = zip(sharded, whole).enumerated().filter { !SessionRunTestsShim.sameFrame($0.element.0, $0.element.1) }.map(\.offset)
        #expect(differing.isEmpty, "frames differing from the one-process run: \(differing)")
        #expect(cluster.processes().allSatisfy { !$0.command.contains(Self.binary) }, "\(cluster.processes())")
    }
}

/// The bit comparison of two inverted frames (latents and noise maps).
enum SessionRunTestsShim {
    static func sameFrame(_ a: FrameInversion, _ b: FrameInversion) -> Bool {
        guard sameBits(a.ws, b.ws), (a.noise == nil) == (b.noise == nil) else { return false }
        return zip(a.noise ?? [], b.noise ?? []).allSatisfy { sameBits($0, $1) }
    }
}
