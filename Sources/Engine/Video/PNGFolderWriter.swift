import Foundation

/// Writes frames as `000000.png`, `000001.png`, ... into a folder (created if missing), each one
/// atomically, so the folder reads back in the same order through `PNGFolderReader`.
public final class PNGFolderWriter: FrameSink {
    public let folder: String
    public private(set) var framesWritten = 0
    private let firstIndex: Int

    public init(folder: String, firstIndex: Int = 0) throws {
        self.folder = folder
        self.firstIndex = firstIndex
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw LinstoryError(.unreadable, file: folder, "cannot create the folder")
        }
    }

    /// The file frame `index` (counted from the first written) goes to.
    public func path(ofFrame index: Int) -> String {
        (folder as NSString).appendingPathComponent(String(format: "%06d.png", firstIndex + index))
    }

    public func write(_ frame: RGBImage) throws {
        try PNGFile.write(frame, to: path(ofFrame: framesWritten))
        framesWritten += 1
    }

    public func finish() throws {}
}
