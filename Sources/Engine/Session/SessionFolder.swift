import Foundation

/// A session folder: everything one clip's inversions produced, written atomically so an
/// interrupted run loses at most the work in flight.
///
///     session.json                   manifest: video, model, frame window, settings, progress per method
///     cuts.json                      the scene cuts used (edited cuts live here)
///     detection-curve.npy            the detector's difference curve, one value a video frame
///     targets/R-FIT.rgb (+ .json)    the window's frames at the model's resolution (TargetStore)
///     frames/METHOD/000000.safetensors  each finished frame as soon as it finishes (resume reads these);
///                                    metadata "segment": the scene method's line it lies on, "A-B"
///                                    (video frame numbers), from which `LatentPath(scene:)` rebuilds the path
///     latents/METHOD.safetensors     w [N, num_ws, w_dim], noise/<layer> [N, R, R]; metadata "segments"
///     latents/METHOD.npz             key w, like NVIDIA's projected_w.npz
///     recon/METHOD/000000.png ...    reconstructions, one per frame in window order
///     losses/METHOD.json             per-frame loss histories (per step)
///     metrics/METHOD.json            ClipMetrics
///     METHOD.mp4                     target | reconstruction, side by side
public struct SessionFolder: Sendable {
    public struct MethodRecord: Sendable, Codable {
        public var budget: Int
        public var space: String
        public var loss: String
        public var seed: UInt64
        /// One character per window frame: "d" when its result is saved in frames/METHOD, "." when not.
        public var status: String
        public var complete: Bool
        public var seconds: Double
        public var evaluations: Int
        public var notes: [String]
        /// sequential's steps when given outright rather than derived from the budget (absent in
        /// sessions written before it existed, which read as nil).
        public var schedule: SequentialProjector.Schedule?
        /// Frames per batch, whether noise maps are optimised, the prior's weight: part of what a
        /// frame's bits depend on (absent in sessions written before they were recorded: not checked).
        public var batch: Int?
        public var noise: Bool?
        public var prior: Float?
        /// The weight files of a learned loss, and the latents the run started from (`--init`),
        /// absolute paths (nil: none, or a session written before they existed).
        public var lossFiles: LossFiles?
        public var initial: String?
        /// The scene method's `--max-knots` (nil: another method, or a session written before knots).
        public var maxKnots: Int?

        /// A fresh record for `inversion` over `count` frames: nothing saved yet.
        public init(for inversion: SessionRun, count: Int) {
            budget = inversion.budget
            space = inversion.settings.space.rawValue
            loss = inversion.lossName
            seed = inversion.settings.seed
            status = String(repeating: ".", count: count)
            complete = false
            seconds = 0
            evaluations = 0
            notes = []
            schedule = inversion.method == .sequential ? inversion.sequentialSchedule : nil
            batch = inversion.settings.batch
            noise = inversion.settings.optimizeNoise
            prior = inversion.settings.priorWeight
            lossFiles = inversion.lossFiles == LossFiles() ? nil : inversion.lossFiles.absolute
            initial = inversion.initialLatents.map(FileIdentity.absolute)
            maxKnots = inversion.method == .scene ? inversion.settings.maxKnots : nil
        }

        /// Whether frames saved under this record can be reused by `inversion` over `count` frames.
        public func matches(_ inversion: SessionRun, count: Int) -> Bool {
            let s = inversion.settings
            return budget == inversion.budget && space == s.space.rawValue && loss == inversion.lossName && status.count == count
                && schedule == (inversion.method == .sequential ? inversion.sequentialSchedule : nil)
                && (batch ?? s.batch) == s.batch && (noise ?? s.optimizeNoise) == s.optimizeNoise && (prior ?? s.priorWeight) == s.priorWeight
                && (lossFiles ?? LossFiles()) == inversion.lossFiles.absolute && initial == inversion.initialLatents.map(FileIdentity.absolute)
                && maxKnots == (inversion.method == .scene ? s.maxKnots : nil)
        }

        /// How many window frames are saved.
        public var framesDone: Int { status.reduce(0) { $0 + ($1 == "d" ? 1 : 0) } }

        public func isDone(_ frame: Int) -> Bool {
            frame < status.count && status.utf8[status.utf8.index(status.utf8.startIndex, offsetBy: frame)] == UInt8(ascii: "d")
        }

        public mutating func setDone(_ frames: [Int], _ done: Bool) {
            var bytes = Array(status.utf8)
            for f in frames where f < bytes.count { bytes[f] = UInt8(ascii: done ? "d" : ".") }
            status = String(decoding: bytes, as: UTF8.self)
        }
    }

    public struct Manifest: Sendable, Codable {
        public var version = SessionFolder.version
        public var video: FileIdentity
        public var model: FileIdentity
        public var resolution: Int
        public var fit: String
        public var fps: Double
        public var videoFrames: Int
        /// The inverted window of the video, [first, first + count).
        public var first: Int
        public var count: Int
        /// Keyed by the method's name in the file; read and written through `self[method]`.
        public var methods: [String: MethodRecord] = [:]

        public subscript(method: InversionMethod) -> MethodRecord? {
            get { methods[method.rawValue] }
            set { methods[method.rawValue] = newValue }
        }

        public init(
            video: FileIdentity, model: FileIdentity, resolution: Int, fit: String, fps: Double, videoFrames: Int, first: Int, count: Int
        ) {
            self.video = video
            self.model = model
            self.resolution = resolution
            self.fit = fit
            self.fps = fps
            self.videoFrames = videoFrames
            self.first = first
            self.count = count
        }
    }

    /// 2: per-frame results and status (1 saved whole scenes).
    public static let version = 2

    public let folder: String
    public var manifest: Manifest

    public var manifestPath: String { folder + "/session.json" }
    public var cutsPath: String { folder + "/cuts.json" }
    /// The scene detector's difference curve over the whole video (one value a frame, .npy), kept so
    /// that opening the session again shows it without decoding the video.
    public var detectionCurvePath: String { folder + "/detection-curve.npy" }

    /// The session's cut list (`cuts.json`); none saved yet reads as no cuts (one scene).
    public func cutList() throws -> CutList {
        guard FileManager.default.fileExists(atPath: cutsPath) else { return CutList(frames: manifest.videoFrames, fps: manifest.fps, cuts: []) }
        return try CutList.read(path: cutsPath, fps: manifest.fps, frames: manifest.videoFrames)
    }

    public func writeDetectionCurve(_ curve: [Float]) throws {
        try NpyArray.write(Tensor(shape: [curve.count], values: curve), to: detectionCurvePath)
    }

    /// The saved curve, or nil when there is none (or it cannot be read: it is made again).
    public func readDetectionCurve() -> [Float]? {
        guard FileManager.default.fileExists(atPath: detectionCurvePath), let t = try? NpyArray.read(path: detectionCurvePath), t.rank == 1 else { return nil }
        return t.scalars
    }

    /// Opens the session in `folder` for this video and model, creating it when there is none.
    /// A session made from another video or model refuses to mix with it.
    public static func open(folder: String, fresh manifest: Manifest) throws -> SessionFolder {
        let path = folder + "/session.json"
        if FileManager.default.fileExists(atPath: path) {
            let existing = try read(folder: folder)
            try existing.refuseUnlike(
                video: manifest.video, model: manifest.model, resolution: manifest.resolution, fit: manifest.fit,
                window: manifest.first..<(manifest.first + manifest.count))
            return existing
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw LinstoryError(.unreadable, file: folder, "cannot create the session folder: \(error.localizedDescription)")
        }
        var s = SessionFolder(folder: folder, manifest: manifest)
        try s.save()
        return s
    }

    /// Refuses to mix this session with another video, model, resolution, fit or frame window (a
    /// window reaching past the video's end means the frames up to the end).
    public func refuseUnlike(video: FileIdentity, model: FileIdentity, resolution: Int, fit: String, window: Range<Int>?) throws {
        let m = manifest
        if !m.video.sameContent(as: video) {
            throw LinstoryError(.mismatch, file: manifestPath, "this session was made from another video (\(m.video.path)); use a new --out folder")
        }
        if !m.model.sameContent(as: model) {
            throw LinstoryError(.mismatch, file: manifestPath, "this session was made with another model (\(m.model.path)); use a new --out folder")
        }
        let sameWindow = window.map { Self.frames(first: m.first, count: m.count, are: $0, of: m.videoFrames) } ?? true
        if m.resolution != resolution || m.fit != fit || !sameWindow {
            throw LinstoryError(.mismatch, file: manifestPath, "this session covers frames \(m.first)..<\(m.first + m.count) at \(m.resolution) px (\(m.fit)); use a new --out folder")
        }
    }

    /// Whether frames first ..< first + count are window `window` of a video of `videoFrames` frames
    /// (a window reaching past the end means the frames up to the end).
    public static func frames(first: Int, count: Int, are window: Range<Int>, of videoFrames: Int) -> Bool {
        first == window.lowerBound && first + count == min(window.upperBound, videoFrames)
    }

    public func refuseUnlike(video: FileIdentity, model: FileIdentity, resolution: Int, fit: FitPolicy, window: Range<Int>?) throws {
        try refuseUnlike(video: video, model: model, resolution: resolution, fit: fit.rawValue, window: window)
    }

    public static func read(folder: String) throws -> SessionFolder {
        let path = folder + "/session.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw LinstoryError(.notFound, file: path, "no session here (session.json missing)") }
        return SessionFolder(folder: folder, manifest: try manifest(data: data, path: path))
    }

    /// Decodes session.json's bytes; `path` names the file in errors.
    public static func manifest(data: Data, path: String) throws -> Manifest {
        do {
            let m = try JSONDecoder().decode(Manifest.self, from: data)
            guard m.version == Self.version else {
                throw LinstoryError(.unsupported, file: path, "session version \(m.version) is not \(Self.version), the one this linstory reads; use a new folder")
            }
            // The window is used as first..<first + count: it must be a range of frames.
            guard m.first >= 0, m.count >= 0, m.first <= Int.max - m.count else {
                throw LinstoryError(.corrupt, file: path, "not a readable session file (frame window first \(m.first), count \(m.count))")
            }
            return m
        } catch let e as LinstoryError {
            throw e
        } catch {
            throw LinstoryError(.corrupt, file: path, "not a readable session file (\(error.localizedDescription))")
        }
    }

    public mutating func save() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(manifest), to: manifestPath)
    }

    func ensureFolder(_ sub: String) throws -> String {
        let path = folder + "/" + sub
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    public func latentsPath(method: InversionMethod) -> String { "\(folder)/latents/\(method.rawValue).safetensors" }

    /// The assembled latents of `method` (a frame at a time), or nil when there are none yet.
    public func latents(method: InversionMethod, noiseNames: [String]) throws -> SessionLatents? {
        let path = latentsPath(method: method)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try SessionLatents(path: path, noiseNames: noiseNames, first: manifest.first)
    }

    /// Every frame of the assembled latents, or [] when there are none (a clip's worth, for tests).
    public func readLatents(method: InversionMethod, noiseNames: [String]) throws -> [FrameInversion] {
        try latents(method: method, noiseNames: noiseNames)?.all() ?? []
    }

    /// "A-B" (a segment's first and last frame, video numbering) as a range; nil when malformed.
    static func segment(_ text: String) -> ClosedRange<Int>? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a >= 0, a <= b else { return nil }
        return a...b
    }

    /// A finished run's results, as the method finally gives them, a frame at a time: the assembled
    /// latents with each frame's final loss (for smooth these are the filtered latents; its frame
    /// files hold naive's). nil until the method is complete.
    public func finishedLatents(method: InversionMethod, noiseNames: [String]) -> SessionLatents? {
        guard manifest[method]?.complete == true, let latents = try? latents(method: method, noiseNames: noiseNames), latents.count == manifest.count
        else { return nil }
        return latents
    }

    /// metrics/METHOD.json, or metrics/METHOD+tuned.json for the figures with its tuned scenes.
    public func writeMetrics(_ metrics: ClipMetrics, method: InversionMethod, tuned: Bool = false) throws {
        let dir = try ensureFolder("metrics")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(metrics), to: tuned ? tunedMetricsPath(method: method) : "\(dir)/\(method.rawValue).json")
    }

    /// Window frame `index`'s reconstruction [1, C, R, R] as recon/METHOD/000000.png (window order).
    public func writeReconstruction(_ image: Tensor, index: Int, method: InversionMethod) throws {
        let dir = try ensureFolder("recon/\(method.rawValue)")
        try ImageOutput.writePNG(image, to: String(format: "%@/%06d.png", dir, index))
    }

    func framePath(method: InversionMethod, index: Int) -> String { String(format: "%@/frames/%@/%06d.safetensors", folder, method.rawValue, index) }

    /// One finished window frame, written atomically: w [num_ws, w_dim], noise/<layer> [R, R],
    /// loss [1 + steps] (the final loss, then the loss at every step).
    public func writeFrame(_ frame: FrameInversion, index: Int, method: InversionMethod, noiseNames: [String]) throws {
        _ = try ensureFolder("frames/\(method.rawValue)")
        var tensors: [(String, Tensor)] = [("w", frame.ws)]
        if let noise = frame.noise {
            for (name, n) in zip(noiseNames, noise) { tensors.append(("noise/" + name, n)) }
        }
        tensors.append(("loss", Tensor(shape: [1 + frame.lossHistory.count], values: [frame.finalLoss] + frame.lossHistory)))
        var metadata = ["method": method.rawValue, "frame": String(index), "evaluations": String(frame.evaluations)]
        if let s = frame.segment { metadata["segment"] = "\(s.lowerBound)-\(s.upperBound)" }
        try SafeTensorsWriter.write(tensors, metadata: metadata, to: framePath(method: method, index: index))
    }

    /// A frame written by `writeFrame`, or nil when there is none or it cannot be read (it is redone).
    public func readFrame(index: Int, method: InversionMethod, noiseNames: [String]) -> FrameInversion? {
        let path = framePath(method: method, index: index)
        guard FileManager.default.fileExists(atPath: path), let file = try? SafeTensorsFile(path: path),
              let ws = try? file.tensor("w"), let loss = try? file.tensor("loss"), loss.count >= 1
        else { return nil }
        let noise = file.names.contains("noise/" + (noiseNames.first ?? "")) ? try? noiseNames.map { try file.tensor("noise/" + $0) } : nil
        let values = loss.scalars
        var frame = FrameInversion(
            ws: ws, noise: noise, lossHistory: Array(values.dropFirst()), finalLoss: values[0],
            evaluations: Int(file.metadata["evaluations"] ?? "") ?? 0)
        frame.segment = file.metadata["segment"].flatMap(Self.segment)
        return frame
    }

    /// A saved frame's header alone (its metadata: evaluations, segment), or nil when there is no
    /// readable frame file: resume and assembly look at every frame without reading its tensors.
    public func frameHeader(index: Int, method: InversionMethod) -> SafeTensorsRows? {
        let path = framePath(method: method, index: index)
        guard FileManager.default.fileExists(atPath: path), let file = try? SafeTensorsRows(path: path), file.entries["w"] != nil, file.entries["loss"] != nil
        else { return nil }
        return file
    }

    /// A saved frame read back for further work (a warm start, smooth's copy of naive, the final
    /// pass): unlike `readFrame`, an unreadable one is an error, since a run saved it.
    public func savedFrame(index: Int, method: InversionMethod, noiseNames: [String]) throws -> FrameInversion {
        guard let f = readFrame(index: index, method: method, noiseNames: noiseNames) else {
            throw LinstoryError(.corrupt, file: framePath(method: method, index: index), "the saved frame cannot be read back; run this part again")
        }
        return f
    }

    /// Which of the window's `count` frames of `method` are saved, from the files themselves (what
    /// any number of workers filling the session agree on): each saved frame's evaluations, nil for
    /// a frame with no readable file. One directory listing and a header read a saved frame (only
    /// those `within` a range of frames, when given: a worker looks at its own).
    public func savedFrames(method: InversionMethod, count: Int, within: Range<Int>? = nil) -> [Int?] {
        var evaluations = [Int?](repeating: nil, count: count)
        let range = within ?? 0..<count
        for i in savedFrameIndices(method: method, count: count) where range.contains(i) {
            guard let header = frameHeader(index: i, method: method) else { continue }
            evaluations[i] = Int(header.metadata["evaluations"] ?? "") ?? 0
        }
        return evaluations
    }

    /// The window frames of `method` whose files are there, from a directory listing alone (no file
    /// is opened): what a watcher polls.
    public func savedFrameIndices(method: InversionMethod, count: Int) -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "\(folder)/frames/\(method.rawValue)")) ?? []
        return names.compactMap { name in
            guard name.hasSuffix(".safetensors"), let i = Int(name.dropLast(".safetensors".count)), i >= 0, i < count else { return nil }
            return i
        }.sorted()
    }

    /// Frame numbers as short ranges, for messages: "3-7, 12, 40-41" (at most `limit` ranges, then "...").
    public static func describe(frames: [Int], limit: Int = 6) -> String {
        let runs = IntegerRuns.runs(frames)
        let shown = runs.prefix(limit).map(IntegerRuns.text).joined(separator: ", ")
        return shown + (runs.count > limit ? ", ... (\(runs.count) ranges)" : "")
    }

    /// Forgets every saved frame of `method`.
    public func removeFrames(method: InversionMethod) {
        try? FileManager.default.removeItem(atPath: "\(folder)/frames/\(method.rawValue)")
    }
}
