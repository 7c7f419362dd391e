import Foundation

/// Where the `ffmpeg` and `ffprobe` executables are. Video is read and written by running them as
/// subprocesses: every codec ffmpeg has, nothing to link, and decoding runs on its own core.
public struct FFmpegTools: Sendable, Equatable {
    public var ffmpeg: String
    public var ffprobe: String

    public init(ffmpeg: String, ffprobe: String) {
        self.ffmpeg = ffmpeg
        self.ffprobe = ffprobe
    }

    /// Finds both tools on `searchPath` (a PATH-style list; the process's PATH by default). `file` is
    /// the video the caller wants to read or write, so that the error names it.
    public static func locate(for file: String, searchPath: String? = nil) throws -> FFmpegTools {
        let path = searchPath ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let folders = path.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        func find(_ name: String) -> String? {
            folders.map { ($0 as NSString).appendingPathComponent(name) }.first { FileManager.default.isExecutableFile(atPath: $0) }
        }
        guard let ffmpeg = find("ffmpeg"), let ffprobe = find("ffprobe") else {
            throw LinstoryError(.tool, file: file, "video needs ffmpeg and ffprobe, which are not on the PATH (install them: apt-get install ffmpeg)")
        }
        return FFmpegTools(ffmpeg: ffmpeg, ffprobe: ffprobe)
    }
}
