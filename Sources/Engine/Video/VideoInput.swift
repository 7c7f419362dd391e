import Foundation

/// Opens whatever the user named as a frame source: a folder of PNGs, or any video file ffmpeg reads.
public enum VideoInput {
    /// - Parameters:
    ///   - scaling: the size frames are delivered at.
    ///   - folderFPS: the rate given to a PNG folder's frames.
    ///   - tools: ffmpeg and ffprobe; found on the PATH by default (only needed for video files).
    ///   - forAnalysis: faster, slightly rougher decoding for scene detection (see `VideoFileReader`).
    public static func open(_ path: String, scaling: FrameScaling = .original, folderFPS: Double = 25,
                            tools: FFmpegTools? = nil, stallTimeout: Double = 60, forAnalysis: Bool = false) throws -> any FrameSource {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw LinstoryError(.notFound, file: path, "no such file or folder")
        }
        if isFolder.boolValue { return try PNGFolderReader(folder: path, scaling: scaling, fps: folderFPS) }
        return try VideoFileReader(path: path, scaling: scaling, tools: tools, stallTimeout: stallTimeout, forAnalysis: forAnalysis)
    }
}
