import Foundation
import Testing

/// The Slurm harness against real daemons (SlurmCluster, ../shared/slurm-testing.md): an array job
/// whose tasks see their index and count, a dependency that runs only after every task, and a
/// cancelled job whose afterok dependent never runs. The two tests run at once, each on a cluster of
/// its own, which is itself a check that two clusters never meet.
@Suite("A private Slurm cluster runs array jobs and dependencies", .enabled(if: ExternalProcess.runs(needing: SlurmCluster.available)))
struct SlurmClusterTests {
    static let needs = "slurm-wlm and munge (\(SlurmCluster.tools.joined(separator: ", ")))"

    @Test func arrayTasksSeeTheirIndexAndCountAndAfterOkWaitsForAllOfThem() throws {
        try ExternalProcess.require(SlurmCluster.available, Self.needs)
        let cluster = try SlurmCluster()
        defer { cluster.stop() }
        let dir = cluster.directory
        let script = dir + "/task.sh"
        try """
            #!/bin/sh
            echo "$SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_COUNT" > '\(dir)/task-'"$SLURM_ARRAY_TASK_ID"'.txt'

            """.write(toFile: script, atomically: true, encoding: .utf8)

        let array = try cluster.submit(["--array=0-2", "-c", "1", "-o", dir + "/task-%a.out", script])
        // The dependent job counts the task files it sees: all three, if afterok waited for every task.
        let done = try cluster.submit(["-d", "afterok:\(array)", "-c", "1", "-o", dir + "/done.out",
                                       "--wrap", "ls '\(dir)' | grep -c '^task-[0-9]*\\.txt$' > '\(dir)/done.txt'"])
        try cluster.waitUntilNoJobs(timeout: 20)

        for task in 0..<3 {
            let text = try? String(contentsOfFile: "\(dir)/task-\(task).txt", encoding: .utf8)
            #expect(text == "\(task) 3\n", "task \(task) wrote \(text ?? "nothing")")
        }
        #expect((try? String(contentsOfFile: dir + "/done.txt", encoding: .utf8)) == "3\n")
        #expect(cluster.arrayTaskStates(array) == [0: "COMPLETED", 1: "COMPLETED", 2: "COMPLETED"])
        #expect(cluster.jobState(done) == "COMPLETED")

        cluster.stop()
        #expect(cluster.processes().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir))
    }

    @Test func aCancelledJobStopsAndItsAfterOkDependentNeverRuns() throws {
        try ExternalProcess.require(SlurmCluster.available, Self.needs)
        let cluster = try SlurmCluster()
        defer { cluster.stop() }
        let dir = cluster.directory
        // `&&`, not `;`: proctrack/linuxproc sends SIGTERM to the children before the script's shell,
        // so a shell that sees its sleep die can run its next command before its own SIGTERM lands
        // (seen here with `;`: "after" written by a cancelled job, twice in about 25 cancels). Job
        // scripts must stop on a failed command (`&&` or `set -e`) to be safe to cancel.
        let long = try cluster.submit(["-c", "1", "-o", dir + "/long.out", "--wrap", "sleep 60 && echo after > '\(dir)/after.txt'"])
        let dependent = try cluster.submit(["-d", "afterok:\(long)", "-c", "1", "-o", dir + "/dependent.out",
                                            "--wrap", "echo ran > '\(dir)/dependent.txt'"])
        try cluster.waitForJobState(long, in: ["RUNNING"], timeout: 20)
        // RUNNING comes with the allocation, a moment before slurmstepd starts the script.
        let sleeping = ExternalProcess.poll(timeout: .seconds(10), interval: .milliseconds(100)) {
            cluster.processes().contains { $0.command.hasPrefix("sleep 60") } ? true : nil
        }
        #expect(sleeping == true, "no sleep 60 process among the cluster's: \(cluster.processes().map(\.command))")

        try cluster.cancel(long)
        #expect(try cluster.waitForJobState(long, in: ["CANCELLED"], timeout: 10) == "CANCELLED")
        // Gone from the queue, and its process with it.
        let gone = try ExternalProcess.poll(timeout: .seconds(10), interval: .milliseconds(100)) { () throws -> Bool? in
            try !cluster.queuedJobs().contains(long) && !cluster.processes().contains { $0.command.hasPrefix("sleep 60") } ? true : nil
        }
        #expect(gone == true)

        // Slurm (by default) does not cancel the dependent: it stays pending, its dependency marked
        // never satisfiable, and is never started.
        #expect(try cluster.waitForJobState(dependent, in: ["PENDING"], timeout: 5) == "PENDING")
        let reason = ExternalProcess.poll(timeout: .seconds(10), interval: .milliseconds(100)) {
            cluster.jobReason(dependent) == "DependencyNeverSatisfied" ? true : nil
        }
        #expect(reason == true, "the dependent's reason is \(cluster.jobReason(dependent) ?? "unknown")")
        Thread.sleep(forTimeInterval: 2)   // two scheduling passes: it must still not run
        #expect(cluster.jobState(dependent) == "PENDING")
        #expect(cluster.jobRecords(dependent).first?["Dependency"] == "afterok:\(long)(failed)")

        try cluster.cancel(dependent)
        try cluster.waitUntilNoJobs(timeout: 10)
        #expect(cluster.jobState(dependent) == "CANCELLED")
        #expect(!FileManager.default.fileExists(atPath: dir + "/after.txt"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/dependent.txt"))
    }
}
