import Engine
import Foundation
import Testing
import TestSupport

/// `linstory slurm --dry-run` (no cluster needed): the session is prepared, and the scripts carry
/// the array of shards, every invert option given, and a finalize job; the pieces they are made of.
@Suite("linstory slurm: the scripts")
struct SlurmCommandTests {
    @Test func dryRunWritesAnArrayOfShardsWithEveryOptionAndAFinalizeJob() throws {
        let scratch = try TemporaryFolder("linstory-slurm-dry")
        let session = scratch.path + "/session with space"
        let r = try CommandLineTests.run([
            "slurm", Clips.bbbCuts, "--model", Fixtures.repoRoot.appendingPathComponent("assets/bbb64.safetensors").path, "--method", "sequential",
            "--budget", "7", "--space", "w", "--no-noise", "--seed", "9", "--frames", "0:60", "--out", session, "--tasks", "3",
            "--time", "2:00:00", "--mem", "4G", "--cpus-per-task", "2", "--extra=--account=film", "--dry-run",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let array = try String(contentsOfFile: session + "/slurm/sequential/array.sbatch", encoding: .utf8)
        let finalize = try String(contentsOfFile: session + "/slurm/sequential/finalize.sbatch", encoding: .utf8)
        for line in ["#SBATCH --array=1-3", "#SBATCH --cpus-per-task=2", "#SBATCH --time=2:00:00", "#SBATCH --mem=4G", "#SBATCH --account=film",
                     "#SBATCH --output=\"\(session)/slurm/sequential/logs/shard-%a-of-3.%A.out\"", "export LINSTORY_THREADS="] {
            #expect(array.contains(line), "missing \(line) in\n\(array)")
        }
        // The invert line: every option given, the session quoted (it has a space), the task's shard.
        for part in ["invert", "--method sequential", "--budget 7", "--space w", "--no-noise", "--seed 9", "--frames 0:60",
                     "--out '\(session)'", "--shard \"${SLURM_ARRAY_TASK_ID}/3\""] {
            #expect(array.contains(part), "missing \(part) in\n\(array)")
        }
        #expect(finalize.contains("finalize '\(session)' --method sequential"), "\(finalize)")
        #expect(r.stdout.contains("would submit shards 1-3 of 3, then finalize (afterok)"), "\(r.stdout)")
        // The session is prepared: cuts, frames and the method's settings recorded for the workers.
        let s = try SessionFolder.read(folder: session)
        #expect(s.manifest[.sequential]?.budget == 7 && s.manifest[.sequential]?.noise == false && s.manifest[.sequential]?.seed == 9)
        #expect(FileManager.default.fileExists(atPath: s.cutsPath))
    }

    @Test func taskListsAndShellWords() {
        #expect(SlurmClient.arraySpec([4, 1, 2, 3, 7, 9, 8, 2]) == "1-4,7-9")
        #expect(SlurmClient.arraySpec([5]) == "5")
        #expect(SessionFolder.describe(frames: [1, 2, 3, 10, 12, 13], limit: 2) == "1-3, 10, ... (3 ranges)")
        #expect(SlurmClient.quoted("/a/b.mp4") == "/a/b.mp4")
        #expect(SlurmClient.quoted("it's here") == "'it'\\''s here'")
        #expect(SlurmClient.quoted("$HOME") == "'$HOME'")
        #expect(SlurmClient.quoted("") == "''")
    }
}
