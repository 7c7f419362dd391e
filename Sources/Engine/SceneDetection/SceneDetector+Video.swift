extension SceneDetector {
    /// A whole video's detection: its cut list and the difference curve (one value a frame).
    public struct VideoResult: Sendable {
        public var cuts: CutList
        public var curve: [Float]
    }

    /// Detects the cuts of `video` (a file ffmpeg reads, or a folder of PNGs at `folderFPS`): one
    /// decode at the analysis width, every frame fed in order. The one way every command, the UI and
    /// a library caller detect a video's cuts, so they all get the same list. `progress` hears the
    /// detector every `progressInterval` frames (frames seen, its curve so far) with the video's frame
    /// count when the container knows it: for a progress bar or a live curve.
    public static func detect(
        video: String, options: Options = Options(), folderFPS: Double = 25, tools: FFmpegTools? = nil,
        progressInterval: Int = 8, progress: ((SceneDetector, _ totalFrames: Int?) -> Void)? = nil
    ) throws -> VideoResult {
        let source = try VideoInput.open(video, scaling: .width(options.analysisWidth), folderFPS: folderFPS, tools: tools, forAnalysis: true)
        defer { source.close() }
        var detector = SceneDetector(fps: source.info.fps, options: options)
        var reported = 0
        while let frame = try source.next() {
            _ = detector.feed(frame)
            if let progress, detector.framesSeen - reported >= max(1, progressInterval) {
                reported = detector.framesSeen
                progress(detector, source.info.frameCount)
            }
        }
        _ = detector.finish()
        progress?(detector, source.info.frameCount)
        return VideoResult(cuts: CutList(frames: detector.framesSeen, fps: source.info.fps, cuts: detector.cuts), curve: detector.curve)
    }
}
