import Foundation

/// What every command that inverts a video does first, in one place so they cannot disagree: open
/// (or create) the video's session folder, make sure it holds the clip's frames at the model's
/// resolution (its frame store, `targets/`), and choose its cut list.
///
/// The video is decoded once: when the cuts must be detected, the detection pass fills the frame
/// store too; when they are known, a pass of its own does; when the store is there (a session opened
/// again), nothing is decoded at all.
///
/// The cut list follows one rule: a cuts file the user gives replaces the session's (and is saved
/// into it); else the session's own `cuts.json` (the user's edits win over detection); else the
/// video's detected cuts, saved into the session — unless the caller detects them itself later (the
/// UI, which shows detection live), in which case `cuts` is nil until it saves them.
public struct SessionPreparation: Sendable {
    public var session: SessionFolder
    /// The window's frames at the model's resolution; frame 0 is video frame `session.manifest.first`.
    public var store: TargetStore
    /// The session's cuts; nil only when detection was deferred to the caller.
    public var cuts: CutList?
    /// The detector's difference curve over the whole video, when detection has run (now or when the
    /// session was made).
    public var curve: [Float]?

    /// Whether `prepare` detects the cuts when neither a file nor the session has them.
    public enum Detection: Sendable {
        case now
        /// The caller detects (and saves with `saveCuts`) on its own schedule.
        case deferred
    }

    public var fps: Double { session.manifest.fps }
    public var count: Int { store.count }

    /// The frame store's file in a session folder for a resolution and fit.
    public static func storePath(folder: String, resolution: Int, fit: FitPolicy) -> String {
        "\(folder)/targets/\(resolution)-\(fit.rawValue).rgb"
    }

    /// - Parameters:
    ///   - video: a video file or a folder of PNGs; `model`: the checkpoint (both recorded by content).
    ///   - resolution: the generator's image side; `fit`, `window`: how and which frames to keep.
    ///   - cutsFile: a cut list the user gives (JSON or PySceneDetect CSV).
    ///   - decodeProgress: hears the decoding pass, if one is needed (frames seen, the video's frame
    ///     count when known); throwing from it stops the pass (Ctrl-C) and leaves no frame store.
    public static func prepare(
        video: String, model: String, folder: String, resolution: Int, fit: FitPolicy = .centerCrop, window: Range<Int>? = nil,
        cutsFile: String? = nil, detection: Detection = .now, decodeProgress: ((_ framesSeen: Int, _ totalFrames: Int?) throws -> Void)? = nil,
        detector: ((SceneDetector) -> Void)? = nil
    ) throws -> SessionPreparation {
        let videoID = try FileIdentity(path: video), modelID = try FileIdentity(path: model)
        let manifestPath = folder + "/session.json"
        let existing = FileManager.default.fileExists(atPath: manifestPath) ? try SessionFolder.read(folder: folder) : nil
        if let existing {
            // Refuse another video, model or window before decoding anything.
            try existing.refuseUnlike(video: videoID, model: modelID, resolution: resolution, fit: fit, window: window)
        }
        let storePath = Self.storePath(folder: folder, resolution: resolution, fit: fit)
        // A store made earlier serves when it holds the frames asked for (those of the session when
        // none are named, else the whole video); anything else is decoded again.
        let wanted = window ?? existing.map { $0.manifest.first..<($0.manifest.first + $0.manifest.count) }
        var store = (try? TargetStore(path: storePath)).flatMap { s in
            SessionFolder.frames(first: s.header.first, count: s.count, are: wanted ?? 0..<Int.max, of: s.header.videoFrames) ? s : nil
        }
        let sessionCuts = FileManager.default.fileExists(atPath: folder + "/cuts.json")
        var detected: CutList?
        var curve: [Float]?
        if store == nil {
            try FileManager.default.createDirectory(atPath: folder + "/targets", withIntermediateDirectories: true)
            if cutsFile == nil && !sessionCuts && detection == .now {
                let result = try SceneDetector.detect(
                    video: video, store: SceneDetector.StoreRequest(path: storePath, resolution: resolution, fit: fit, window: window),
                    progressInterval: 64
                ) { d, total in
                    try decodeProgress?(d.framesSeen, total)
                    detector?(d)
                }
                store = result.store
                detected = result.cuts
                curve = result.curve
            } else {
                store = try TargetStore.build(
                    video: video, path: storePath, resolution: resolution, fit: fit, window: window, progress: decodeProgress)
            }
        }
        guard let store else { preconditionFailure("a frame store was made above") }
        let h = store.header
        let session = try SessionFolder.open(folder: folder, fresh: SessionFolder.Manifest(
            video: videoID, model: modelID, resolution: resolution, fit: fit.rawValue, fps: h.fps, videoFrames: h.videoFrames, first: h.first,
            count: store.count))
        if let curve { try session.writeDetectionCurve(curve) }
        var prepared = SessionPreparation(session: session, store: store, cuts: nil, curve: curve ?? session.readDetectionCurve())
        if let cutsFile {
            let given = try CutList.read(path: cutsFile, fps: h.fps, frames: h.videoFrames)
            // The same list again (every worker of a split run is given it) leaves the file alone.
            let own = sessionCuts ? try? CutList.read(path: session.cutsPath, fps: h.fps, frames: h.videoFrames) : nil
            if own == given { prepared.cuts = given } else { try prepared.saveCuts(given) }
        } else if sessionCuts {
            prepared.cuts = try CutList.read(path: session.cutsPath, fps: h.fps, frames: h.videoFrames)
        } else if detection == .now {
            if detected == nil {
                let result = try SceneDetector.detect(video: video, folderFPS: h.fps, progressInterval: 64) { d, total in
                    try decodeProgress?(d.framesSeen, total)
                    detector?(d)
                }
                detected = result.cuts
                try session.writeDetectionCurve(result.curve)
                prepared.curve = result.curve
            }
            try prepared.saveCuts(detected!)
        }
        return prepared
    }

    /// Makes `cuts` the session's (saved atomically in its `cuts.json`).
    public mutating func saveCuts(_ cuts: CutList) throws {
        try cuts.write(to: session.cutsPath, format: .json)
        self.cuts = cuts
    }
}
