import Engine

/// Interpolation mode's state: where on the latent line t is, how far the arrows move it, whether
/// it plays, which frames' latents the line joins, and the images the engine rendered for it.
public struct InterpolationState: Equatable, Sendable {
    /// The position on the line: 0 is the start latent, 1 the end; beyond either is extrapolation.
    public var t: Double
    /// How far one arrow press moves t.
    public var step: Double
    public var playing: Bool
    /// Frames pinned as the line's ends; nil ends fall back to the scene under the cursor.
    public var pinnedStart: Int?
    public var pinnedEnd: Int?
    /// G(w_start), G(lerp(w_start, w_end, t)) and G(w_end), as the engine last rendered them.
    public var startImage: RGBImage?
    public var image: RGBImage?
    public var endImage: RGBImage?
    /// The t that `image` was rendered at (it lags while the engine renders).
    public var imageT: Double?

    public static let steps: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25]
    /// How far t moves per second while playing.
    public static let playSpeed = 0.5

    public init(t: Double = 0.5, step: Double = 0.05, playing: Bool = false, pinnedStart: Int? = nil, pinnedEnd: Int? = nil,
                startImage: RGBImage? = nil, image: RGBImage? = nil, endImage: RGBImage? = nil, imageT: Double? = nil) {
        self.t = t
        self.step = step
        self.playing = playing
        self.pinnedStart = pinnedStart
        self.pinnedEnd = pinnedEnd
        self.startImage = startImage
        self.image = image
        self.endImage = endImage
        self.imageT = imageT
    }
}
