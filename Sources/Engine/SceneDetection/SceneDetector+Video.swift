import Foundation

extension SceneDetector {
    /// A whole video's detection: its cut list, the difference curve (one value a frame), and the
    /// frame store filled in the same pass when one was asked for.
    public struct VideoResult: Sendable {
        public var cuts: CutList
        public var curve: [Float]
        public var store: TargetStore?
    }

    /// What the detection pass should also keep: the frames `window` (all when nil) fitted to a
    /// `resolution` square, in a `TargetStore` at `path`.
    public struct StoreRequest: Sendable, Equatable {
        public var path: String
        public var resolution: Int
        public var fit: FitPolicy
        public var window: Range<Int>?

        public init(path: String, resolution: Int, fit: FitPolicy, window: Range<Int>? = nil) {
            self.path = path
            self.resolution = resolution
            self.fit = fit
            self.window = window
        }
    }

    /// Detects the cuts of `video` (a file ffmpeg reads, or a folder of PNGs at `folderFPS`): one
    /// decode, every frame fed in order. The one way every command, the UI and a library caller
    /// detect a video's cuts, so they all get the same list. With `store`, the same decode also fills
    /// the frame store inversion reads its targets from (ffmpeg writes it as a second output), so a
    /// film is decoded once. `progress` hears the detector every `progressInterval` frames (frames
    /// seen, its curve so far) with the video's frame count when the container knows it: for a
    /// progress bar or a live curve; it may throw to stop the pass (Ctrl-C), which leaves no store.
    ///
    /// Frames are decoded in full (the in-loop deblocking filter on), as inversion needs them: the
    /// cuts are the same whether or not a store is filled.
    public static func detect(
        video: String, options: Options = Options(), folderFPS: Double = 25, tools: FFmpegTools? = nil, store: StoreRequest? = nil,
        progressInterval: Int = 8, progress: ((SceneDetector, _ totalFrames: Int?) throws -> Void)? = nil
    ) throws -> VideoResult {
        let analysis = FrameScaling.width(options.analysisWidth)
        var isFolder: ObjCBool = false
        let folder = FileManager.default.fileExists(atPath: video, isDirectory: &isFolder) && isFolder.boolValue
        let square = store.map { FrameScaling.square($0.resolution, $0.fit) }
        let partial = store.map { $0.path + ".partial" }
        // A PNG folder is decoded here: each frame, at full size, is scaled both ways in Swift.
        var writer: TargetStore.Writer?
        let source: any FrameSource
        if folder {
            source = try VideoInput.open(video, scaling: store == nil ? analysis : .original, folderFPS: folderFPS, tools: tools)
            if let store { writer = try TargetStore.Writer(path: store.path, resolution: store.resolution, fit: store.fit, first: store.window?.lowerBound ?? 0) }
        } else {
            if let partial { try? FileManager.default.removeItem(atPath: partial) }
            source = try VideoFileReader(
                path: video, scaling: analysis, tools: tools,
                copy: store.map { FrameCopy(scaling: .square($0.resolution, $0.fit), window: $0.window, path: $0.path + ".partial") })
        }
        defer { source.close() }
        var ok = false
        defer {
            if !ok {
                writer?.abandon()
                if let partial { try? FileManager.default.removeItem(atPath: partial) }
            }
        }
        var detector = SceneDetector(fps: source.info.fps, options: options)
        var reported = 0
        while let decoded = try source.next() {
            var frame = decoded
            if let writer, let square {
                let index = detector.framesSeen
                if store?.window.map({ $0.contains(index) }) ?? true { try writer.append(square.apply(decoded)) }
                frame = analysis.apply(decoded)
            }
            _ = detector.feed(frame)
            if let progress, detector.framesSeen - reported >= max(1, progressInterval) {
                reported = detector.framesSeen
                try progress(detector, source.info.frameCount)
            }
        }
        _ = detector.finish()
        try progress?(detector, source.info.frameCount)
        var stored: TargetStore?
        if let store, let partial {
            let lower = store.window?.lowerBound ?? 0
            let upper = min(store.window?.upperBound ?? detector.framesSeen, detector.framesSeen)
            guard lower < upper else { throw ClipTargets.noFrames(video: video, window: store.window, videoFrames: detector.framesSeen) }
            if let writer {
                stored = try writer.finish(videoFrames: detector.framesSeen, fps: source.info.fps)
            } else {
                stored = try TargetStore.publish(
                    temporary: partial, path: store.path,
                    header: TargetStore.Header(
                        frames: upper - lower, resolution: store.resolution, fit: store.fit, first: lower, videoFrames: detector.framesSeen,
                        fps: source.info.fps))
            }
        }
        ok = true
        return VideoResult(cuts: CutList(frames: detector.framesSeen, fps: source.info.fps, cuts: detector.cuts), curve: detector.curve, store: stored)
    }
}
