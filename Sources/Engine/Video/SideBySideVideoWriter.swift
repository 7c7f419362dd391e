/// A video of "target | reconstruction" pairs (or more panels), one composed frame per call, for
/// judging an inversion by eye. Panels are laid out by `ContactSheet.sideBySide`.
public final class SideBySideVideoWriter {
    public let video: VideoFileWriter
    public let panels: Int
    private let gap: Int

    /// - Parameters:
    ///   - panelWidth, panelHeight: the size of one panel (the model's resolution).
    ///   - panels: how many frames each call lays side by side.
    public init(path: String, panelWidth: Int, panelHeight: Int, panels: Int = 2, gap: Int = 2, fps: Double,
                quality: Int = 18, tools: FFmpegTools? = nil) throws {
        precondition(panels > 0, "a side-by-side video needs at least one panel")
        self.panels = panels
        self.gap = gap
        video = try VideoFileWriter(path: path, width: panels * panelWidth + (panels - 1) * gap, height: panelHeight,
                                    fps: fps, quality: quality, tools: tools)
    }

    /// Writes one frame made of `frames`, left to right (e.g. [target, reconstruction]).
    public func write(_ frames: [RGBImage]) throws {
        precondition(frames.count == panels, "\(frames.count) frames for \(panels) panels")
        try video.write(ContactSheet.sideBySide(frames, gap: gap))
    }

    public func write(target: RGBImage, reconstruction: RGBImage) throws {
        try write([target, reconstruction])
    }

    public func finish() throws { try video.finish() }
}
