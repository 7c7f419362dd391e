/// Somewhere frames are written in order: a PNG folder or a video file.
public protocol FrameSink: AnyObject {
    /// Frames written so far.
    var framesWritten: Int { get }
    func write(_ frame: RGBImage) throws
    /// Completes the output. A sink that is dropped without `finish()` leaves no partial file behind.
    func finish() throws
}
