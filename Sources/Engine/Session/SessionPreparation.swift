import Foundation

/// What every command that inverts a video does first, in one place so they cannot disagree:
/// read the clip's targets, open (or create) its session folder, and choose its cut list.
///
/// The cut list follows one rule: a cuts file the user gives replaces the session's (and is saved
/// into it); else the session's own `cuts.json` (the user's edits win over detection); else the
/// video's detected cuts, saved into the session — unless the caller detects them itself later (the
/// UI, which shows detection live), in which case `cuts` is nil until it saves them.
public struct SessionPreparation: Sendable {
    public var session: SessionFolder
    public var clip: ClipTargets
    /// The session's cuts; nil only when detection was deferred to the caller.
    public var cuts: CutList?

    /// Whether `prepare` detects the cuts when neither a file nor the session has them.
    public enum Detection: Sendable {
        case now
        /// The caller detects (and saves with `saveCuts`) on its own schedule.
        case deferred
    }

    /// - Parameters:
    ///   - video: a video file or a folder of PNGs; `model`: the checkpoint (both recorded by content).
    ///   - resolution, channels: the generator's image; `fit`, `window`: how and which frames to read.
    ///   - cutsFile: a cut list the user gives (JSON or PySceneDetect CSV).
    ///   - detectionProgress: hears detection as it goes (frames seen, the video's frame count when known).
    public static func prepare(
        video: String, model: String, folder: String, resolution: Int, channels: Int, fit: FitPolicy = .centerCrop,
        window: Range<Int>? = nil, cutsFile: String? = nil, detection: Detection = .now,
        detectionProgress: ((_ framesSeen: Int, _ totalFrames: Int?) -> Void)? = nil
    ) throws -> SessionPreparation {
        let clip = try ClipTargets.read(video: video, resolution: resolution, channels: channels, fit: fit, window: window)
        let session = try SessionFolder.open(folder: folder, fresh: SessionFolder.Manifest(
            video: try FileIdentity(path: video), model: try FileIdentity(path: model), resolution: resolution, fit: fit.rawValue,
            fps: clip.info.fps, videoFrames: clip.videoFrames, first: clip.first, count: clip.targets.shape[0]))
        var prepared = SessionPreparation(session: session, clip: clip, cuts: nil)
        if let cutsFile {
            try prepared.saveCuts(try CutList.read(path: cutsFile, fps: clip.info.fps, frames: clip.videoFrames))
        } else if FileManager.default.fileExists(atPath: session.cutsPath) {
            prepared.cuts = try CutList.read(path: session.cutsPath, fps: clip.info.fps, frames: clip.videoFrames)
        } else if detection == .now {
            let detected = try SceneDetector.detect(video: video, folderFPS: clip.info.fps, progressInterval: 64) { detector, total in
                detectionProgress?(detector.framesSeen, total)
            }
            try prepared.saveCuts(detected.cuts)
        }
        return prepared
    }

    /// Makes `cuts` the session's (saved atomically in its `cuts.json`).
    public mutating func saveCuts(_ cuts: CutList) throws {
        try cuts.write(to: session.cutsPath, format: .json)
        self.cuts = cuts
    }
}
