import Engine
import Foundation

/// Writes what the UI shows to a folder, for tests that drive the real binary: `screen.txt` (the
/// cell grid as text) after every drawn frame, and each sixel image as `image-K.png` with its
/// place in `images.txt` ("K x y width height pixelWidth pixelHeight", cells and pixels) whenever
/// the images change. Files are replaced atomically, so a poller never reads half a file. Status
/// lines (the message and the engine's line) are also appended to `notes.log` as they change: a
/// message can be on screen for less than a poll, and a test waiting for it must not miss it.
/// Enabled with the environment variable `LINSTORY_FRAME_DUMP=DIR`.
public final class FrameDump {
    public let directory: String
    private var lastImages: [ImagePlacement] = []
    private var wroteImages = false
    private var lastNotes: [String] = []
    private var notesLog: FileHandle?

    public init(directory: String) {
        self.directory = directory
    }

    public static func fromEnvironment(_ environment: [String: String]) -> FrameDump? {
        guard let dir = environment["LINSTORY_FRAME_DUMP"], !dir.isEmpty else { return nil }
        return FrameDump(directory: dir)
    }

    /// `notes`: the status lines this frame shows (each appended to notes.log when it changes).
    public func write(_ frame: RenderedFrame, capabilities: TerminalCapabilities, notes: [String] = []) {
        // A dump that cannot be written must not take the UI down: it is a test aid.
        try? AtomicFile.write(Array((frame.grid.text + "\n").utf8), to: directory + "/screen.txt")
        if notes != lastNotes {
            if notesLog == nil {
                _ = FileManager.default.createFile(atPath: directory + "/notes.log", contents: nil)
                notesLog = FileHandle(forWritingAtPath: directory + "/notes.log")
            }
            let changed = notes.enumerated().filter { !$0.element.isEmpty && ($0.offset >= lastNotes.count || lastNotes[$0.offset] != $0.element) }
            let text = changed.map { $0.element + "\n" }.joined()
            if !text.isEmpty { try? notesLog?.write(contentsOf: Array(text.utf8)) }
            lastNotes = notes
        }
        guard !wroteImages || frame.images != lastImages else { return }
        wroteImages = true
        lastImages = frame.images
        var index = "cell \(capabilities.cellPixelSize.width) \(capabilities.cellPixelSize.height)\n"
        for (k, placement) in frame.images.enumerated() {
            try? PNGFile.write(placement.image, to: directory + "/image-\(k).png")
            let r = placement.rect
            index += "\(k) \(r.x) \(r.y) \(r.width) \(r.height) \(placement.image.width) \(placement.image.height)\n"
        }
        try? AtomicFile.write(Array(index.utf8), to: directory + "/images.txt")
    }
}
