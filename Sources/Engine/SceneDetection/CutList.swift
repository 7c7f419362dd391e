import Foundation

/// The cuts of one video: what `linstory detect` writes and what every command that needs scenes
/// reads back (`--cuts FILE`), so users can correct cuts by hand.
///
/// Two formats: linstory's JSON, which is lossless (kind, score and span), and PySceneDetect's
/// `list-scenes` CSV, so cut lists move between the two tools (hard cuts only: the CSV has no kinds).
public struct CutList: Sendable, Equatable {
    /// Frames in the video.
    public var frames: Int
    public var fps: Double
    /// In frame order, each strictly inside the video (0 < frame < frames).
    public var cuts: [SceneCut]

    public init(frames: Int, fps: Double, cuts: [SceneCut]) {
        self.frames = frames
        self.fps = fps
        self.cuts = cuts
    }

    /// The video's scenes between these cuts.
    public var scenes: SceneList { SceneList(cuts: cuts, frames: frames) }

    public enum Format: String, Sendable, CaseIterable {
        case json, csv

        /// From a file name's extension; JSON unless it ends in .csv.
        public init(path: String) {
            self = path.lowercased().hasSuffix(".csv") ? .csv : .json
        }
    }

    public func encoded(as format: Format) -> String {
        switch format {
        case .json: return json()
        case .csv: return csv()
        }
    }

    /// Writes the list (atomically) in the format its extension names.
    public func write(to path: String, format: Format? = nil) throws {
        try AtomicFile.write(Array(encoded(as: format ?? Format(path: path)).utf8), to: path)
    }

    /// Reads a JSON or PySceneDetect CSV cut list (told apart by content, not by name).
    ///
    /// - Parameters:
    ///   - fps, frames: the video's, when known. A CSV records its frame rate only as rounded times,
    ///     so the video's rate is preferred; a JSON file without `frames`/`fps` takes these. A list
    ///     that records a different frame count or rate was made for another video: an error.
    public static func read(path: String, fps: Double? = nil, frames: Int? = nil) throws -> CutList {
        let bytes = try AtomicFile.read(path)
        let text = String(decoding: bytes, as: UTF8.self)
        let list: CutList
        if text.drop(while: { $0.isWhitespace }).first == "{" {
            list = try parseJSON(text, path: path, fps: fps, frames: frames)
        } else {
            list = try parseCSV(text, path: path, fps: fps, frames: nil)
        }
        if let frames, list.frames != frames {
            throw LinstoryError(.mismatch, file: path, "the cut list is for a video of \(list.frames) frames, this one has \(frames)")
        }
        if let fps, abs(list.fps - fps) > 1e-3 * fps {
            throw LinstoryError(.mismatch, file: path, "the cut list is for a video at \(String(format: "%g", list.fps)) fps, this one is at \(String(format: "%g", fps))")
        }
        return try list.validated(path: path)
    }

    /// Sorted, without duplicates, every cut inside the video.
    func validated(path: String) throws -> CutList {
        guard fps > 0 && fps.isFinite else { throw LinstoryError(.corrupt, file: path, "frame rate \(fps) is not positive") }
        guard frames >= 0 else { throw LinstoryError(.corrupt, file: path, "frame count \(frames) is negative") }
        var sorted = cuts.sorted { $0.frame < $1.frame }
        sorted = sorted.enumerated().filter { $0.offset == 0 || sorted[$0.offset - 1].frame != $0.element.frame }.map(\.element)
        for cut in sorted {
            guard cut.frame > 0 && cut.frame < frames else {
                throw LinstoryError(.mismatch, file: path, "cut at frame \(cut.frame) is outside the video's frames 1..\(max(frames - 1, 0))")
            }
            guard cut.span.lowerBound >= 0 && cut.span.upperBound < frames && cut.span.contains(cut.frame) else {
                // A span that misses its own cut contradicts the list; one that leaves the video does not fit it.
                throw LinstoryError(cut.span.contains(cut.frame) ? .mismatch : .corrupt, file: path, "cut at frame \(cut.frame) has span \(cut.span.lowerBound)...\(cut.span.upperBound), which does not contain it or leaves the video")
            }
        }
        return CutList(frames: frames, fps: fps, cuts: sorted)
    }
}
