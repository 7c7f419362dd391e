/// The size a frame source delivers its frames at. Video files are scaled by ffmpeg before the
/// frames cross the pipe (decoding and copying full-size frames is what costs); PNG folders are
/// scaled in Swift with the same geometry.
public enum FrameScaling: Sendable, Equatable {
    /// As stored.
    case original
    /// This width, the height following the aspect ratio (rounded to an even number, at least 2).
    case width(Int)
    /// Exactly this size, proportions ignored.
    case size(width: Int, height: Int)
    /// A square of this side, made by a fit policy.
    case square(Int, FitPolicy)

    /// The delivered size for a source of `width` x `height`.
    public func outputSize(width: Int, height: Int) -> (width: Int, height: Int) {
        switch self {
        case .original: return (width, height)
        case .width(let w): return (w, Self.evenHeight(width: w, sourceWidth: width, sourceHeight: height))
        case .size(let w, let h): return (w, h)
        case .square(let side, _): return (side, side)
        }
    }

    /// The ffmpeg filter chain that delivers `outputSize`. Always ends in an explicit scale, so the
    /// frame size on the pipe is the one computed here whatever the stream's metadata says.
    func ffmpegFilter(width: Int, height: Int) -> String {
        switch self {
        case .square(let side, let policy):
            return policy.ffmpegFilter(width: width, height: height, side: side)
        default:
            let (w, h) = outputSize(width: width, height: height)
            return "scale=\(w):\(h):flags=area"
        }
    }

    /// `image` at the delivered size, for sources that decode in Swift.
    public func apply(_ image: RGBImage) -> RGBImage {
        switch self {
        case .original: return image
        case .square(let side, let policy): return policy.fit(image, side: side)
        default:
            let (w, h) = outputSize(width: image.width, height: image.height)
            return AreaResampler.resize(image, width: w, height: h)
        }
    }

    static func evenHeight(width w: Int, sourceWidth: Int, sourceHeight: Int) -> Int {
        let exact = Double(w) * Double(sourceHeight) / Double(max(sourceWidth, 1))
        return max(2, Int((exact / 2).rounded()) * 2)
    }
}
