import Engine
import Foundation
import Glibc
import Testing
import TestSupport

/// Two `linstory invert --shard` processes at once on one new session folder (no Slurm): one
/// prepares the session under its lock while the other waits, both write into the folder at the
/// same time; one is killed outright (SIGKILL) mid-run, `status` calls its shard stalled, running it
/// again finishes it, and the finalized latents equal a one-process run's bit for bit.
@Suite("Two shard workers at once on one session")
struct ShardWorkersTests {
    static let binary = CommandLineTests.binary
    static let options = [
        Clips.bbbCuts, "--model", Fixtures.repoRoot.appendingPathComponent("assets/bbb64.safetensors").path,
        "--method", "scene", "--budget", "8", "--frames", "0:60",
    ]
    /// One thread each, and for the one-process reference: bits depend on the worker count.
    static let environment = ["LINSTORY_THREADS": "1"]

    @Test func twoWorkersOneKilledAndRunAgainEqualOneProcess() throws {
        try ExternalProcess.require(FileManager.default.isExecutableFile(atPath: Self.binary), "the release binary (\(Self.binary))")
        let scratch = try TemporaryFolder("linstory-two-workers")
        let session = scratch.path + "/session"
        func worker(_ shard: String) throws -> SpawnedProcess {
            try SpawnedProcess(
                [Self.binary, "invert"] + Self.options + ["--out", session, "--shard", shard], environment: Self.environment,
                stdout: .file(scratch.path + "/\(shard.replacingOccurrences(of: "/", with: "-")).out"),
                stderr: .file(scratch.path + "/\(shard.replacingOccurrences(of: "/", with: "-")).err"))
        }
        let first = try worker("1/2")
        let second = try worker("2/2")
        // Kill the first once it has said it runs (its status file) and before it is done.
        let status = session + "/shards/scene/1-of-2.json"
        let running = ExternalProcess.poll(timeout: .seconds(120), interval: .milliseconds(20)) {
            FileManager.default.fileExists(atPath: status) ? true : nil
        }
        #expect(running == true, "shard 1/2 never started")
        Thread.sleep(forTimeInterval: 0.5)
        kill(first.pid, SIGKILL)
        _ = first.wait()
        #expect(second.wait() == 0, "\((try? String(contentsOfFile: scratch.path + "/2-2.err", encoding: .utf8)) ?? "")")

        // Killed outright, the worker could not say so: status sees its process gone from this host.
        let r = try ExternalProcess.run([Self.binary, "status", session])
        #expect(r.stdout.contains("stalled") && r.stdout.contains("not complete: shards 1 of 2"), "\(r.stdout)")

        let again = try ExternalProcess.run([Self.binary, "invert"] + Self.options + ["--out", session, "--shard", "1/2"], environment: Self.environment)
        #expect(again.stdout.contains("shard 1/2 of scene:"), "\(again.stdout)")
        _ = try ExternalProcess.run([Self.binary, "finalize", session], environment: Self.environment)

        let single = scratch.path + "/single"
        _ = try ExternalProcess.run([Self.binary, "invert"] + Self.options + ["--out", single], environment: Self.environment)
        let names = try GeneratorCheckpoint.load(path: Fixtures.repoRoot.appendingPathComponent("assets/bbb64.safetensors").path)
            .generator.synthesis.noiseLayerNames
        let split = try SessionFolder.read(folder: session).readLatents(method: .scene, noiseNames: names)
        let whole = try SessionFolder.read(folder: single).readLatents(method: .scene, noiseNames: names)
        #expect(split.count == 60 && whole.count == 60)
        let differing = zip(split, whole).enumerated().filter { !SessionRunTestsShim.sameFrame($0.element.0, $0.element.1) }.map(\.offset)
        #expect(differing.isEmpty, "frames differing from the one-process run: \(differing)")
    }
}
