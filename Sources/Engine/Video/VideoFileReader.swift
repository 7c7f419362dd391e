import Foundation

/// Frames of a video file, decoded by an `ffmpeg` subprocess and streamed as raw RGB24 over a pipe.
///
/// ffprobe reads the size, rate and frame count first; ffmpeg then scales the frames to the size
/// asked for (shrinking before the pipe is much cheaper than after it) and writes them back to
/// back. Frames are passed through as decoded (`-vsync passthrough`): none are duplicated or
/// dropped to fit a constant rate.
///
/// The end of the stream is checked: a partial last frame, ffmpeg failing, or fewer frames than the
/// file declares (with ffmpeg complaining) is a truncated or corrupt video, reported with the number
/// of frames read. If ffmpeg sends nothing for `stallTimeout` seconds it is killed.
public final class VideoFileReader: FrameSource {
    public let path: String
    public let info: VideoInfo
    /// Frame size as stored (after ffmpeg's automatic rotation).
    public let sourceWidth: Int
    public let sourceHeight: Int
    public private(set) var framesRead = 0
    private let stallTimeout: Double
    private var child: Subprocess?

    /// - Parameters:
    ///   - tools: where ffmpeg and ffprobe are; found on the PATH by default.
    ///   - stallTimeout: seconds without a byte from ffmpeg before it is declared stalled and killed.
    ///   - forAnalysis: decode faster by skipping the in-loop deblocking filter (H.264, HEVC and
    ///     others that have one): about 15% less decoding time, at the cost of slightly blockier
    ///     pictures that drift until the next keyframe. Right for scene detection, which shrinks
    ///     frames to 64 pixels anyway; wrong for frames a model should reproduce.
    ///   - copy: a second output of the same decode, written by ffmpeg straight into a file (the
    ///     frame store the detection pass fills); it needs the frames as they really are, so it
    ///     rules out `forAnalysis`.
    public init(path: String, scaling: FrameScaling = .original, tools: FFmpegTools? = nil, stallTimeout: Double = 60,
                forAnalysis: Bool = false, copy: FrameCopy? = nil) throws {
        precondition(copy == nil || !forAnalysis, "a frame copy needs full decoding")
        self.path = path
        self.stallTimeout = stallTimeout
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw LinstoryError(.notFound, file: path, "no such file")
        }
        if isFolder.boolValue { throw LinstoryError(.wrongFormat, file: path, "is a folder, not a video file") }
        guard FileManager.default.isReadableFile(atPath: path) else { throw LinstoryError(.unreadable, file: path, "cannot read: permission denied") }
        let tools = try tools ?? FFmpegTools.locate(for: path)
        let stream = try FFprobe.probe(path, tools: tools, timeout: stallTimeout)
        sourceWidth = stream.width
        sourceHeight = stream.height
        let (w, h) = scaling.outputSize(width: stream.width, height: stream.height)
        guard w > 0 && h > 0 else { throw LinstoryError(.invalidValue, file: path, "cannot scale \(stream.width)x\(stream.height) frames to \(w)x\(h)") }
        info = VideoInfo(width: w, height: h, fps: stream.fps, frameCount: stream.frameCount,
                         frameCountIsExact: stream.frameCountIsExact)
        if stream.frameCountIsExact && stream.frameCount == 0 {
            throw LinstoryError(.notFound, file: path, "contains no frames")
        }
        let filter = scaling.ffmpegFilter(width: stream.width, height: stream.height)
        var arguments = [
            "-nostdin", "-hide_banner", "-loglevel", "error",
        ] + (forAnalysis ? ["-skip_loop_filter", "all"] : []) + ["-i", path]
        if let copy {
            // One decode, two outputs: the frames asked for on the pipe, the copy into its file.
            let trim = copy.window.map { "trim=start_frame=\($0.lowerBound):end_frame=\($0.upperBound)," } ?? ""
            let copyFilter = copy.scaling.ffmpegFilter(width: stream.width, height: stream.height)
            arguments += [
                "-filter_complex", "[0:v:0]split=2[pipe][copy];[pipe]\(filter)[out];[copy]\(trim)\(copyFilter)[file]",
                "-map", "[out]", "-vsync", "passthrough", "-pix_fmt", "rgb24", "-f", "rawvideo", "-",
                "-map", "[file]", "-vsync", "passthrough", "-pix_fmt", "rgb24", "-f", "rawvideo", "-y", copy.path,
            ]
        } else {
            arguments += [
                "-map", "0:v:0", "-an", "-sn", "-dn",
                "-vf", filter,
                "-vsync", "passthrough",
                "-pix_fmt", "rgb24", "-f", "rawvideo", "-",
            ]
        }
        do {
            child = try Subprocess(executable: tools.ffmpeg, arguments: arguments, readOutput: true, writeInput: false)
        } catch {
            throw LinstoryError(.tool, file: path, "cannot run ffmpeg: \(error)")
        }
    }

    deinit { close() }

    public func next() throws -> RGBImage? {
        guard let child else { return nil }
        let frameBytes = info.width * info.height * 3
        var pixels = [UInt8](repeating: 0, count: frameBytes)
        let got: Int
        do {
            got = try pixels.withUnsafeMutableBytes { try child.read(into: $0, timeout: stallTimeout) }
        } catch Subprocess.Failure.stalled(let seconds) {
            self.child = nil
            throw LinstoryError(.tool, file: path, "ffmpeg stalled: nothing decoded for \(secondsText(seconds)) s after \(framesRead) frame\(framesRead == 1 ? "" : "s"); stopped it")
        } catch {
            close()
            throw LinstoryError(.tool, file: path, "\(error)")
        }
        if got == frameBytes {
            framesRead += 1
            return RGBImage(width: info.width, height: info.height, pixels: pixels)
        }
        try end(partialBytes: got)
        return nil
    }

    public func close() {
        child?.finish(kill: true)
        child = nil
    }

    /// End of the pipe: decides whether the video ended cleanly.
    private func end(partialBytes: Int) throws {
        guard let child else { return }
        let exit = child.finish(timeout: stallTimeout)
        self.child = nil
        let said = exit.lastMessage(strippingPath: path)
        let read = "read \(framesRead) frame\(framesRead == 1 ? "" : "s")"
        let expected = info.frameCount.map { " of \(info.frameCountIsExact ? "" : "about ")\($0)" } ?? ""
        let because = said.map { " (ffmpeg: \($0))" } ?? ""
        if !exit.succeeded {
            if framesRead == 0 && partialBytes == 0 {
                throw LinstoryError(.corrupt, file: path, "ffmpeg cannot decode it\(because.isEmpty ? " (status \(exit.status))" : because)")
            }
            throw LinstoryError(.corrupt, file: path, "truncated or corrupt video: \(read)\(expected)\(because)")
        }
        if partialBytes > 0 {
            throw LinstoryError(.corrupt, file: path, "truncated or corrupt video: \(read)\(expected), then part of one\(because)")
        }
        if framesRead == 0 {
            throw LinstoryError(.notFound, file: path, "contains no frames\(because)")
        }
        if let n = info.frameCount, framesRead < n {
            // Containers' counts are not always exact to the frame (edit lists, estimates from the
            // duration), so a shortfall alone is only trusted when it is large or ffmpeg complained.
            let large = info.frameCountIsExact ? framesRead < n - max(1, n / 100) : framesRead < n * 9 / 10
            if said != nil || large {
                throw LinstoryError(.corrupt, file: path, "truncated or corrupt video: \(read)\(expected)\(because)")
            }
        }
    }
}
