import Engine

/// The images of the frame under the cursor: the video frame, the generator's reconstruction, and
/// their absolute difference. Each is nil until the engine has produced it.
public struct PreviewImages: Equatable, Sendable {
    /// The frame these images belong to; the preview says so when it lags behind the cursor.
    public var frame: Int?
    public var target: RGBImage?
    public var reconstruction: RGBImage?
    public var difference: RGBImage?

    public init(frame: Int? = nil, target: RGBImage? = nil, reconstruction: RGBImage? = nil, difference: RGBImage? = nil) {
        self.frame = frame
        self.target = target
        self.reconstruction = reconstruction
        self.difference = difference
    }
}
