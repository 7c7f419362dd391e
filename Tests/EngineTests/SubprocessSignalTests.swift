import Engine
import Foundation
import Glibc
import Testing
import TestSupport

/// Writing frames into an ffmpeg that has exited: the write fails with a one-line error, the process
/// is not killed by SIGPIPE, and its signal dispositions are left as they were (a library must not
/// set SIGPIPE to ignored for its host).
@Suite("Subprocess: a child that dies under our writes")
struct SubprocessSignalTests {
    /// SIGPIPE's handler as the process has it now (nil: SIG_DFL).
    static func pipeHandler() -> sighandler_t? {
        var action = sigaction()
        sigaction(SIGPIPE, nil, &action)
        return action.__sigaction_handler.sa_handler
    }

    @Test func aWriteToADeadChildFailsWithoutSIGPIPE() throws {
        let scratch = try TemporaryFolder("linstory-sigpipe")
        // A stand-in ffmpeg that reads nothing and exits at once: our first full pipe meets no reader.
        let fake = scratch.path + "/ffmpeg"
        try "#!/bin/sh\nexit 3\n".write(toFile: fake, atomically: true, encoding: .utf8)
        chmod(fake, 0o755)
        let before = Self.pipeHandler()
        let writer = try VideoFileWriter(
            path: scratch.path + "/out.mp4", width: 256, height: 256, fps: 25, tools: FFmpegTools(ffmpeg: fake, ffprobe: fake), stallTimeout: 30)
        let frame = RGBImage(width: 256, height: 256, fill: (10, 20, 30))  // 196 KiB: more than a pipe holds
        var failure: LinstoryError?
        for _ in 0..<20 {
            do { try writer.write(frame) } catch let e as LinstoryError {
                failure = e
                break
            }
        }
        let message = try #require(failure, "20 frames went into a child that had exited").message
        #expect(failure?.kind == .tool)
        #expect(message.contains("out.mp4") && message.contains("ffmpeg stopped"), "\(message)")
        #expect(!message.contains("\n"))
        let after = Self.pipeHandler()
        #expect(unsafeBitCast(after, to: Int.self) == unsafeBitCast(before, to: Int.self), "SIGPIPE's disposition changed")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/out.mp4"))
    }
}
