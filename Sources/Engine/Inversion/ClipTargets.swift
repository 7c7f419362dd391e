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
        let source = try VideoInput.open(video, scaling: .square(resolution, fit))
        defer { source.close() }
        var frames: [Tensor] = []
        var index = 0
        let lower = window?.lowerBound ?? 0
        while let image = try source.next() {
            defer { index += 1 }
            if index < lower { continue }
            if let w = window, index >= w.upperBound { continue }
            let t = Self.target(image, channels: channels)
            frames.append(t.reshaped([1] + t.shape))
        }
        guard !frames.isEmpty else {
            throw LinstoryError(window == nil ? .corrupt : .mismatch, file: video, window.map { "no frames in \($0.lowerBound):\($0.upperBound) (the video has \(index))" } ?? "no frames")
        }
        return ClipTargets(targets: Tensor.concatenate(frames), first: lower, info: source.info, videoFrames: index)
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
