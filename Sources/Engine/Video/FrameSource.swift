/// A stream of frames read in order, one at a time: a video file decoded by ffmpeg or a folder of
/// PNGs. Only the current frame is held, so a two-hour film needs no more memory than a short clip.
///
/// Sources own resources (an ffmpeg process, open files), hence a class protocol: `close()` releases
/// them early, and deinit releases them in any case.
public protocol FrameSource: AnyObject {
    /// The file or folder, as error messages name it.
    var path: String { get }
    /// Size, rate and expected count of the frames `next()` returns.
    var info: VideoInfo { get }
    /// How many frames `next()` has returned so far.
    var framesRead: Int { get }
    /// The next frame, or nil after the last one. Throws a `LinstoryError` naming the file when the
    /// input turns out to be truncated, corrupt or empty.
    func next() throws -> RGBImage?
    /// Stops reading and releases the source's resources; later `next()` calls return nil.
    func close()
}
