import Foundation

// Tuned scenes live beside the method's frames, one file a scene:
//
//     tuned/METHOD/A-B.safetensors    the deltas of the scene whose clean frames are A...B (video
//                                     numbering; `TunedScene`'s file), tuned around METHOD's latents
//
// A file is named by its frames, so an edited cut that changes a scene leaves the old file covering
// frames of no scene of that name: it is not used for the new scene, and is removed when the frames
// it covers are inverted again (`SessionRun.run`).
extension SessionFolder {
    public func tunedFolder(method: InversionMethod) -> String { "\(folder)/tuned/\(method.rawValue)" }

    /// Where the tuned scene of clean frames `frames` (video numbering) is kept.
    public func tunedScenePath(method: InversionMethod, frames: ClosedRange<Int>) -> String {
        "\(tunedFolder(method: method))/\(frames.lowerBound)-\(frames.upperBound).safetensors"
    }

    /// The method's tuned scenes from a directory listing (no file is opened): each one's frames
    /// (video numbering) and path, in frame order.
    public func tunedScenes(method: InversionMethod) -> [(frames: ClosedRange<Int>, path: String)] {
        let dir = tunedFolder(method: method)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.compactMap { name -> (frames: ClosedRange<Int>, path: String)? in
            guard name.hasSuffix(".safetensors"), let range = Self.segment(String(name.dropLast(".safetensors".count))) else { return nil }
            return (range, dir + "/" + name)
        }.sorted { $0.frames.lowerBound < $1.frames.lowerBound }
    }

    /// Forgets the method's tuned scenes that cover any of `frames` (window numbering; every one when nil):
    /// their pivots are about to change.
    public func removeTunedScenes(method: InversionMethod, overlapping frames: Range<Int>? = nil) {
        for scene in tunedScenes(method: method) {
            let local = (scene.frames.lowerBound - manifest.first)..<(scene.frames.upperBound + 1 - manifest.first)
            if frames.map({ $0.overlaps(local) }) ?? true { try? FileManager.default.removeItem(atPath: scene.path) }
        }
    }

    /// Where the metrics of `method` rendered with its tuned scenes are kept.
    public func tunedMetricsPath(method: InversionMethod) -> String { "\(folder)/metrics/\(method.rawValue)+tuned.json" }
}
