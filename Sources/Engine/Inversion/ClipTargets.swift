/// A clip's frames as inversion targets: fitted to the model's square resolution and converted to
/// the generator's range [-1, 1].
public struct ClipTargets: Sendable {
    public var targets: Tensor  // [F, C, R, R]
    public var first: Int
    public var info: VideoInfo
    /// Frames in the whole video (read to the end to count them when the window is open-ended).
    public var videoFrames: Int

    /// Reads frames `window` (all when nil) of `video` (a file or a PNG folder).
    public static func read(video: String, resolution: Int, channels: Int, fit: FitPolicy, window: Range<Int>?) throws -> ClipTargets {
        var frames: [Tensor] = []
        let (info, videoFrames) = try decode(video: video, resolution: resolution, fit: fit, window: window) { _, image in
            let t = Self.target(image, channels: channels)
            frames.append(t.reshaped([1] + t.shape))
        }
        return ClipTargets(targets: Tensor.concatenate(frames), first: window?.lowerBound ?? 0, info: info, videoFrames: videoFrames)
    }

    /// The one decode of a clip's window at the model's square (what `read` and the frame store's
    /// own pass make of a video): `frame` hears each frame of `window` (all when nil) with its video
    /// index; every frame is decoded, to count the video's. Returns the stream's info and the count.
    public static func decode(
        video: String, resolution: Int, fit: FitPolicy, window: Range<Int>?, folderFPS: Double = 25, tools: FFmpegTools? = nil,
        progress: ((_ framesSeen: Int, _ totalFrames: Int?) throws -> Void)? = nil, frame: (Int, RGBImage) throws -> Void
    ) throws -> (info: VideoInfo, videoFrames: Int) {
        let source = try VideoInput.open(video, scaling: .square(resolution, fit), folderFPS: folderFPS, tools: tools)
        defer { source.close() }
        var index = 0, kept = 0
        while let image = try source.next() {
            if window?.contains(index) ?? true {
                try frame(index, image)
                kept += 1
            }
            index += 1
            if index % 64 == 0 { try progress?(index, source.info.frameCount) }
        }
        try progress?(index, source.info.frameCount)
        guard kept > 0 else { throw noFrames(video: video, window: window, videoFrames: index) }
        return (source.info, index)
    }

    /// The error for a window holding no frame of the video.
    public static func noFrames(video: String, window: Range<Int>?, videoFrames: Int) -> LinstoryError {
        LinstoryError(
            window == nil ? .corrupt : .mismatch, file: video,
            window.map { "no frames in \($0.lowerBound):\($0.upperBound) (the video has \(videoFrames))" } ?? "no frames")
    }

    /// A decoded frame (already fitted to the model's square) as a target [channels, R, R] in [-1, 1]:
    /// RGB, or its luma (BT.601) for single-channel models.
    public static func target(_ image: RGBImage, channels: Int) -> Tensor {
        let t = image.tensor()  // [3, R, R]
        guard channels == 1 else { return t }
        let (h, w) = (image.height, image.width)
        return Tensor(shape: [1, h, w]) { p in
            t.withUnsafeBufferPointer { s in
                let hw = h * w
                for i in 0..<hw { p[i] = 0.299 * s[i] + 0.587 * s[hw + i] + 0.114 * s[2 * hw + i] }
            }
        }
    }
}
