import Engine
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `invert`'s peak memory does not grow with the video's length: the same clip once (202 frames)
/// and twenty times over (4,040 frames), at 128x72 with the tiny32 generator at budget 1. Holding
/// the frames would show: 4,040 targets alone are 48 MB as float32 at 32 px, and each finished frame
/// (latents, noise maps, loss history) about as much again. `make bench` measures the same at 1080p
/// with a 256 px model (scripts/bench-memory.sh).
@Suite("invert's memory is flat in the video's length")
final class FlatMemoryTests {
    let scratch: TemporaryFolder
    init() throws { scratch = try TemporaryFolder("linstory-memory") }

    /// Runs the binary with stdout and stderr discarded; its exit status and peak resident set (KB):
    /// the last VmHWM read from /proc every 10 ms while it runs. Not wait4's ru_maxrss: posix_spawn
    /// starts the child in this process's memory (vfork), and exec records that memory's high-water
    /// mark as the child's, so a busy test process would be measured instead.
    static func peakKB(_ arguments: [String]) throws -> (status: Int32, peakKB: Int) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([CommandLineTests.binary] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, CommandLineTests.binary, &actions, nil, argv, environ)
        guard spawned == 0 else { throw LinstoryError(.tool, file: CommandLineTests.binary, "cannot start: \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        var peak = 0
        while true {
            if let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kb = Int(line.split(separator: " ").dropFirst().first ?? "") {
                peak = max(peak, kb)
            }
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || (r < 0 && errno != EINTR) { break }
            usleep(10_000)
        }
        let exited = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return (exited, peak)
    }

    /// The bundled clip `copies` times over at 128x72, made here.
    func clip(copies: Int) throws -> String {
        let path = scratch.path + "/clip\(copies).mp4"
        let r = try ExternalProcess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", String(copies - 1), "-i", Clips.bbbCuts,
             "-vf", "scale=128:72", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", path], check: false)
        #expect(r.status == 0, "\(r.stderr)")
        return path
    }

    @Test(arguments: [InversionMethod.naive, .scene])
    func peakMemoryOfALongVideoIsThatOfAShortOne(method: InversionMethod) throws {
        let model = Fixtures.path("stylegan2/tiny32/weights.safetensors")
        var peaks: [Int] = []
        for copies in [1, 20] {
            let video = try clip(copies: copies)
            let run = try Self.peakKB(["invert", video, "--model", model, "--method", method.rawValue, "--budget", "1",
                                       "--out", scratch.path + "/session-\(method.rawValue)-\(copies)"])
            #expect(run.status == 0)
            peaks.append(run.peakKB)
        }
        print("invert --method \(method.rawValue) peak RSS: 202 frames \(peaks[0] / 1024) MB, 4,040 frames \(peaks[1] / 1024) MB")
        // Heap layout alone moves a run's peak by up to ~10 MB between runs of the same length.
        #expect(peaks[1] - peaks[0] < 25 * 1024, "202 frames: \(peaks[0]) KB, 4,040 frames: \(peaks[1]) KB")
    }
}
