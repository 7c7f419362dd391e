import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes frames to a video file by piping raw RGB24 into an `ffmpeg` subprocess that encodes
/// H.264 in yuv420p (the pixel format every player decodes), in an mp4 unless the file's extension
/// names another container ffmpeg knows.
///
/// The file appears only when `finish()` succeeds: ffmpeg writes a hidden temporary file in the same
/// folder, which is renamed over the target at the end and removed on any failure, so a crash or a
/// full disk never leaves a half-written video under the real name.
public final class VideoFileWriter: FrameSink {
    public let path: String
    public let width: Int
    public let height: Int
    public private(set) var framesWritten = 0
    private let temporary: String
    private let stallTimeout: Double
    private var child: Subprocess?

    /// - Parameters:
    ///   - quality: x264's constant rate factor: 0 is lossless, 18 visually lossless, 23 its default.
    ///   - tools: ffmpeg; found on the PATH by default.
    public init(path: String, width: Int, height: Int, fps: Double, quality: Int = 18,
                tools: FFmpegTools? = nil, stallTimeout: Double = 60) throws {
        precondition(width > 0 && height > 0, "cannot write \(width)x\(height) frames")
        precondition(fps > 0 && fps.isFinite, "frame rate \(fps) is not positive")
        self.path = path
        self.width = width
        self.height = height
        self.stallTimeout = stallTimeout
        let tools = try tools ?? FFmpegTools.locate(for: path)
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw LinstoryError(.notFound, file: path, "cannot write: no folder \(folder)")
        }
        let ext = url.pathExtension.isEmpty ? "mp4" : url.pathExtension
        temporary = (folder as NSString).appendingPathComponent(
            ".\(url.deletingPathExtension().lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max)).\(ext)")
        let arguments = [
            "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(width)x\(height)", "-r", String(format: "%.6g", fps), "-i", "-",
            "-an",
            // yuv420p stores chroma at half resolution, so H.264 needs even sides: pad odd ones by a pixel.
            "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2",
            "-c:v", "libx264", "-preset", "medium", "-crf", String(quality), "-pix_fmt", "yuv420p",
        ] + (["mp4", "m4v", "mov"].contains(ext.lowercased()) ? ["-movflags", "+faststart"] : []) + [temporary]
        do {
            child = try Subprocess(executable: tools.ffmpeg, arguments: arguments, readOutput: false, writeInput: true)
        } catch {
            throw LinstoryError(.tool, file: path, "cannot run ffmpeg: \(error)")
        }
    }

    deinit { abandon() }

    public func write(_ frame: RGBImage) throws {
        guard let child else { throw LinstoryError(.invalidValue, file: path, "cannot write: the video was already finished or failed") }
        precondition(frame.width == width && frame.height == height,
                     "frame is \(frame.width)x\(frame.height), the video \(width)x\(height)")
        do {
            try frame.pixels.withUnsafeBytes { try child.write($0, timeout: stallTimeout) }
        } catch Subprocess.Failure.stalled(let seconds) {
            abandon()
            throw LinstoryError(.tool, file: path, "ffmpeg stalled: it took no frame for \(secondsText(seconds)) s after \(framesWritten); stopped it")
        } catch {
            let exit = child.finish(kill: true)
            abandon()
            throw LinstoryError(.tool, file: path, "cannot write video: ffmpeg stopped after \(framesWritten) frames\(exit.lastMessage(strippingPath: temporary).map { " (\($0))" } ?? "")")
        }
        framesWritten += 1
    }

    public func finish() throws {
        guard let child else { throw LinstoryError(.invalidValue, file: path, "cannot write: the video was already finished or failed") }
        guard framesWritten > 0 else {
            abandon()
            throw LinstoryError(.invalidValue, file: path, "cannot write a video with no frames")
        }
        let exit = child.finish(timeout: max(stallTimeout, 600))
        self.child = nil
        guard exit.succeeded else {
            unlink(temporary)
            throw LinstoryError(.tool, file: path, "cannot write video: ffmpeg failed\(exit.lastMessage(strippingPath: temporary).map { " (\($0))" } ?? " with status \(exit.status)")")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw LinstoryError(.unreadable, file: path, "cannot replace: \(reason)")
        }
    }

    /// Stops ffmpeg and removes its temporary file.
    private func abandon() {
        guard let child else { return }
        child.finish(kill: true)
        self.child = nil
        unlink(temporary)
    }
}
