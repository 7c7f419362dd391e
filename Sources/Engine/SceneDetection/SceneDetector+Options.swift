extension SceneDetector {
    /// The detector's settings. The defaults are meant to be right for ordinary footage; each one is
    /// in units a user can reason about.
    public struct Options: Sendable, Equatable {
        /// How much the picture must change across a cut or a transition: the mean absolute
        /// difference of Y, Cb and Cr summed (0-255 scale; black to white is 255). Within one shot,
        /// motion-compensated frame differences rarely pass 15; hard cuts are mostly 60-130.
        public var threshold: Double = 30
        /// A hard cut's difference must also be this many times the mean of the two frames before
        /// and after it, so that fast, jerky motion (every frame different) does not cut.
        public var adaptiveRatio: Double = 3
        /// Cuts closer together than this are merged, the stronger one kept (PySceneDetect's
        /// min_scene_len; 15 frames at 25 fps).
        public var minSceneLength: FrameDuration = .seconds(0.6)
        /// The longest dissolve or fade looked for.
        public var maxTransition: FrameDuration = .seconds(3)
        /// A picture that returns within this long is a flash (a camera flash, lightning, a glitch
        /// frame), not a cut.
        public var flash: FrameDuration = .seconds(0.25)
        /// Frames are analysed at this width (the height follows the aspect ratio). Small is enough:
        /// cuts change the whole picture, and small frames make decoding and analysis cheap.
        public var analysisWidth: Int = 64

        public init() {}

        public init(threshold: Double? = nil, minSceneLength: FrameDuration? = nil) {
            if let threshold { self.threshold = threshold }
            if let minSceneLength { self.minSceneLength = minSceneLength }
        }
    }

    /// The size to ask a frame source for so frames reach `feed` ready to analyse.
    public static func analysisSize(width: Int, height: Int, options: Options = Options()) -> (width: Int, height: Int) {
        AnalysisFrame.size(width: width, height: height, analysisWidth: options.analysisWidth)
    }
}
