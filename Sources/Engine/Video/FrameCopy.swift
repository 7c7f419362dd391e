/// A second output of a video decode: frames `window` (all when nil) at `scaling`, written by ffmpeg
/// as raw rgb24, back to back, into `path` (see `VideoFileReader`, `TargetStore`).
public struct FrameCopy: Sendable, Equatable {
    public var scaling: FrameScaling
    public var window: Range<Int>?
    public var path: String

    public init(scaling: FrameScaling, window: Range<Int>? = nil, path: String) {
        self.scaling = scaling
        self.window = window
        self.path = path
    }
}
