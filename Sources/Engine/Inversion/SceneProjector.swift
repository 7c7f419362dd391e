import Foundation

/// `scene`: each scene's latents lie on a path through latent space, a polyline continuous at its
/// knots (a straight line until the fit says otherwise), with one set of noise maps for the whole
/// scene, so the scene can be re-rendered at any t, interpolated and slowed down. All frames of a
/// scene are optimised together (a batch of frames per step, cycling through the scene).
///
/// A knot goes where one line cannot follow the motion: after the path is fitted, every frame's
/// latent is set free for a few steps from the path; where three neighbouring frames then fit
/// `splitFactor` times better than on the path, the one of them that gained most becomes a knot, and the whole path is
/// refitted with the rest of the budget, until `InversionSettings.maxKnots` or `minimumSegment` stops it.
public struct SceneProjector: Sendable {
    public var settings: InversionSettings
    /// Evaluations per frame for the scene (the budget).
    public var budget: Int
    /// A piece is split where its frames' loss on the path exceeds their loss with free latents by
    /// this factor.
    public var splitFactor: Float = 1.5
    /// Frames in a piece, at least, counting both knots.
    public var minimumSegment = 6
    /// Free steps per frame when testing whether a piece needs a knot.
    public var probeSteps = 8
    /// The first fit's peak learning rate. NVIDIA's 0.1 suits one frame; a path shares each step's
    /// frames and overshoots with it. Measured on ground-truth footage (issue #19's recipe, 18-26
    /// frame shots, budget 200): mean / worst frame 33.0 / 26.9 dB at 0.2, 37.4 / 31.3 at 0.1,
    /// 39.9 / 35.5 at 0.05, 41.2 / 36.0 at 0.03.
    public var learningRate: Float = 0.03

    public init(settings: InversionSettings, budget: Int) {
        self.settings = settings
        self.budget = budget
    }

    /// A straight piece as the session stores it: frames `range` (indices into the scene's targets)
    /// along start -> end, the first frame at t = 0 and the last at t = 1.
    public struct Segment: Sendable {
        public var range: Range<Int>
        public var start: Tensor  // [rows, w_dim]
        public var end: Tensor  // [rows, w_dim]
        public var noise: [Tensor]?  // per layer [1, R, R]

        /// The latent at t (0 = first frame, 1 = last; outside [0, 1] extrapolates).
        public func latent(at t: Float) -> Tensor { LatentLine(start: start, end: end).latent(at: t) }

        func t(ofFrame i: Int) -> Float { range.count > 1 ? Float(i - range.lowerBound) / Float(range.count - 1) : 0 }
    }

    public struct SceneResult: Sendable {
        public var frames: [FrameInversion]
        /// The fitted path (knots are indices into the scene's targets).
        public var path: ScenePolyline
        /// Human-readable notes on knots: where and why.
        public var splits: [String]

        /// The path's pieces as the session stores them.
        public var segments: [Segment] { path.segments }
    }

    public func run(
        generator: Generator, statistics: WStatistics, loss: any ImageLoss, targets: Tensor,
        frameIndices: [Int]? = nil, observer: InversionObserver? = nil
    ) throws -> SceneResult {
        let n = targets.shape[0]
        let indices = frameIndices ?? Array(0..<n)
        let batch = min(settings.batch, n)
        let step = ReconstructionStep(generator: generator, loss: loss, batch: batch)
        let fitter = PathFitter(step: step, settings: settings, statistics: statistics, targets: targets, indices: indices, observer: observer)
        let total = budget * n
        var path = fitter.initialPath(frames: n)
        var splits: [String] = []
        var spent = 0
        let canSplit = settings.maxKnots > 0 && n >= 2 * minimumSegment - 1
        // Half the budget finds the line; the rest refits after each knot, then refines.
        let first = canSplit ? total / 2 : total
        try fitter.fit(&path, evaluations: first, peakLearningRate: learningRate, fresh: true)
        spent += first
        var pathLosses = fitter.frameLosses(path).losses
        while canSplit, path.knots.count - 2 < settings.maxKnots, total - spent > n * probeSteps + n {
            let free = try fitter.freeLosses(path, steps: probeSteps)
            spent += n * probeSteps
            guard let knot = chooseKnot(path: path, pathLosses: pathLosses, freeLosses: free) else { break }
            let piece = path.place(Float(knot.frame)).piece
            let (lo, hi) = (path.knots[piece], path.knots[piece + 1])
            path.insertKnot(at: knot.frame)
            splits.append(String(
                format: "knot at frame %d (between %d and %d): loss %.4f on the line, %.4f with free latents (%.1fx)",
                indices[knot.frame], indices[lo], indices[hi], knot.onPath, knot.free, knot.onPath / knot.free))
            // Half of what is left refits the path with its new knot (the rest: later knots, refinement).
            let round = (total - spent) / 2
            try fitter.fit(&path, evaluations: round, peakLearningRate: learningRate, fresh: false)
            spent += round
            pathLosses = fitter.frameLosses(path).losses
        }
        if total - spent > 0 {
            try fitter.fit(&path, evaluations: total - spent, peakLearningRate: learningRate, fresh: false)
            spent = total
            pathLosses = fitter.frameLosses(path).losses
        }
        var frames: [FrameInversion] = []
        let segments = path.segments
        for seg in segments {
            for i in seg.range {
                let ws = LatentSpace.broadcast(path.latent(atFrame: Float(i)).reshaped([1] + seg.start.shape), numWs: generator.config.numWs)
                var frame = FrameInversion(
                    ws: ws.reshaped([generator.config.numWs, generator.config.wDim]),
                    noise: path.noise?.map { $0.reshaped(Array($0.shape.dropFirst())) },
                    lossHistory: fitter.history[i], finalLoss: pathLosses[i], evaluations: spent / n)
                frame.segment = indices[seg.range.lowerBound]...indices[seg.range.upperBound - 1]
                frames.append(frame)
            }
        }
        return SceneResult(frames: frames, path: path, splits: splits)
    }

    public struct KnotChoice: Sendable, Equatable {
        public var frame: Int
        /// The window's mean loss on the path and with free latents.
        public var onPath: Float
        public var free: Float
    }

    /// Where one line fits clearly worse than free latents: the frame whose three-frame window loses
    /// most on the path against free latents (as a ratio), if that exceeds `splitFactor`, among the
    /// frames of pieces long enough to split. A window, not the piece's mean: a bend shows at the
    /// frames near it, and a long piece's mean hides them (on a two-segment ground-truth shot the
    /// piece's mean ratio was 1.3, the window's at the true knot 2.1).
    public func chooseKnot(path: ScenePolyline, pathLosses: [Float], freeLosses: [Float]) -> KnotChoice? {
        var best: KnotChoice?
        for j in 0..<(path.knots.count - 1) {
            let (lo, hi) = (path.knots[j], path.knots[j + 1])
            // Both halves keep minimumSegment frames, counting the shared knot.
            guard hi - lo + 1 >= 2 * minimumSegment - 1 else { continue }
            for k in (lo + minimumSegment - 1)...(hi - minimumSegment + 1) {
                let window = (k - 1)...(k + 1)
                let onPath = window.reduce(Float(0)) { $0 + pathLosses[$1] } / 3
                let free = max(window.reduce(Float(0)) { $0 + freeLosses[$1] } / 3, 1e-12)
                guard onPath > splitFactor * free, best == nil || onPath / free > best!.onPath / best!.free else { continue }
                // The knot itself goes to the window's frame that gains most: the bend is where the
                // line misses most (placed at the window's centre, it landed a frame off the true
                // knot, which then stayed at 24 dB).
                let at = window.filter { $0 >= lo + minimumSegment - 1 && $0 <= hi - minimumSegment + 1 }
                    .max { pathLosses[$0] - freeLosses[$0] < pathLosses[$1] - freeLosses[$1] }!
                best = KnotChoice(frame: at, onPath: onPath, free: free)
            }
        }
        return best
    }
}

