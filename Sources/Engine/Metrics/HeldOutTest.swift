import Foundation

/// The interpolation test: hold out every other frame of each scene, fit the rest, and render the
/// held-out frames from the fitted path. Per-frame methods fit frames independently, so their path
/// is the lerp of the neighbours' latents (with the earlier neighbour's noise); the scene method is
/// refitted on the even frames alone and the odd ones are rendered halfway between their neighbours along its path.
///
/// With `tuning`, each scene's generator is tuned on its even frames alone (their latents as pivots)
/// before the odd ones are rendered: the test of whether the interpolation survives tuning.
public enum HeldOutTest {
    /// Makes a scene's tuned generator from its even frames' latents and targets [F, C, R, R].
    public typealias Tuning = (_ scene: Range<Int>, _ pivots: [FrameInversion], _ targets: Tensor) throws -> Generator

    /// Per scene: mean PSNR of its held-out (odd) frames, nil when the scene is shorter than 3 frames.
    /// `frame(t)` gives frame t's result (read as needed: a film's frames are not all held).
    /// `onScene(k)` hears that the first k scenes are done.
    public static func perFrame(
        generator: Generator, frame: (Int) throws -> FrameInversion, targets: any TargetFrames, scenes: [Range<Int>], tuning: Tuning? = nil,
        onScene: ((Int) -> Void)? = nil
    ) throws -> [Double?] {
        try eachScene(scenes, onScene: onScene) { scene in
            let held = Array(scene).enumerated().filter { $0.offset % 2 == 1 && $0.element + 1 < scene.upperBound }.map(\.element)
            guard !held.isEmpty else { return nil }
            var g = generator
            if let tuning {
                let even = Array(stride(from: scene.lowerBound, to: scene.upperBound, by: 2))
                g = try tuning(scene, try even.map(frame), Tensor.concatenate(try even.map { try targets.targets($0..<($0 + 1)) }))
            }
            let step = ReconstructionStep(generator: g, loss: L1Loss(), batch: 1)
            let psnr = try held.map { t -> Double in
                // Halfway along the line between the neighbours, with the earlier one's noise.
                let mid = LatentPath(from: t - 1, try frame(t - 1), to: t + 1, try frame(t + 1)).inversion(atFrame: Double(t))
                let target = try targets.targets(t..<(t + 1))
                return ImageMetrics.psnr(step.render(mid, target: target).image, target)[0]
            }
            return psnr.reduce(0, +) / Double(psnr.count)
        }
    }

    /// The scene method's fits to the even frames, by scene: the test with tuning reuses the fits
    /// the test without it made (a fit costs half the scene's inversion). Safe to share between threads.
    public final class SceneFits: @unchecked Sendable {
        private let lock = NSLock()
        private var fits: [Range<Int>: SceneProjector.SceneResult] = [:]
        public init() {}

        func fit(_ scene: Range<Int>, make: () throws -> SceneProjector.SceneResult) rethrows -> SceneProjector.SceneResult {
            lock.lock()
            if let f = fits[scene] {
                lock.unlock()
                return f
            }
            lock.unlock()
            let f = try make()
            lock.lock()
            fits[scene] = f
            lock.unlock()
            return f
        }
    }

    /// The scene method refitted on even frames (same budget per fitted frame). `fits` keeps the
    /// fits for another run of the test with the same settings (with and without tuning).
    /// `onScene(k)` hears that the first k scenes are done.
    public static func scene(
        generator: Generator, statistics: WStatistics, loss: any ImageLoss, settings: InversionSettings, budget: Int,
        targets: any TargetFrames, scenes: [Range<Int>], tuning: Tuning? = nil, fits: SceneFits? = nil, onScene: ((Int) -> Void)? = nil
    ) throws -> [Double?] {
        try eachScene(scenes, onScene: onScene) { scene -> Double? in
            let frames = Array(scene)
            guard frames.count >= 3 else { return nil }
            let even = frames.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            let held = frames.enumerated().filter { $0.offset % 2 == 1 && $0.element + 1 < scene.upperBound }.map(\.element)
            // The scene's targets, read once: the fit needs them all at every step.
            let sceneTargets = try targets.targets(scene)
            let local = { (t: Int) in sceneTargets.slice((t - scene.lowerBound)..<(t - scene.lowerBound + 1)) }
            let evenTargets = Tensor.concatenate(even.map(local))
            let make = { try SceneProjector(settings: settings, budget: budget).run(generator: generator, statistics: statistics, loss: loss, targets: evenTargets) }
            let fit = try fits?.fit(scene, make: make) ?? make()
            let g = try tuning?(scene, fit.frames, evenTargets) ?? generator
            let step = ReconstructionStep(generator: g, loss: loss, batch: 1)
            let psnr = held.map { t -> Double in
                // Held-out frame t sits between even frames k and k + 1 of the fit.
                let k = (t - scene.lowerBound) / 2
                let latent = fit.path.latent(atFrame: Float(k) + 0.5)
                let w = LatentSpace.broadcast(latent.reshaped([1] + latent.shape), numWs: generator.config.numWs)
                let img = step.render(ws: w, noise: fit.path.noise)
                return ImageMetrics.psnr(img, local(t))[0]
            }
            return psnr.reduce(0, +) / Double(psnr.count)
        }
    }

    /// `body` over the scenes in order, telling `onScene` after each (on a film the test takes as
    /// long as a render of every other frame, or for the scene method a refit: a log must hear it).
    private static func eachScene(_ scenes: [Range<Int>], onScene: ((Int) -> Void)?, _ body: (Range<Int>) throws -> Double?) rethrows -> [Double?] {
        var out: [Double?] = []
        for scene in scenes {
            out.append(try body(scene))
            onScene?(out.count)
        }
        return out
    }
}
