/// The interpolation test: hold out every other frame of each scene, fit the rest, and render the
/// held-out frames from the fitted path. Per-frame methods fit frames independently, so their path
/// is the lerp of the neighbours' latents (with the earlier neighbour's noise); the scene method is
/// refitted on the even frames alone and the odd ones are rendered halfway between their neighbours along its path.
public enum HeldOutTest {
    /// Per scene: mean PSNR of its held-out (odd) frames, nil when the scene is shorter than 3 frames.
    /// `frame(t)` gives frame t's result (read as needed: a film's frames are not all held).
    public static func perFrame(
        generator: Generator, frame: (Int) throws -> FrameInversion, targets: any TargetFrames, scenes: [Range<Int>]
    ) throws -> [Double?] {
        let step = ReconstructionStep(generator: generator, loss: L1Loss(), batch: 1)
        return try scenes.map { scene in
            let held = Array(scene).enumerated().filter { $0.offset % 2 == 1 && $0.element + 1 < scene.upperBound }.map(\.element)
            guard !held.isEmpty else { return nil }
            let psnr = try held.map { t -> Double in
                // Halfway along the line between the neighbours, with the earlier one's noise.
                let mid = LatentPath(from: t - 1, try frame(t - 1), to: t + 1, try frame(t + 1)).inversion(atFrame: Double(t))
                let target = try targets.targets(t..<(t + 1))
                return ImageMetrics.psnr(step.render(mid, target: target).image, target)[0]
            }
            return psnr.reduce(0, +) / Double(psnr.count)
        }
    }

    /// The scene method refitted on even frames (same budget per fitted frame).
    public static func scene(
        generator: Generator, statistics: WStatistics, loss: any ImageLoss, settings: InversionSettings, budget: Int,
        targets: any TargetFrames, scenes: [Range<Int>]
    ) throws -> [Double?] {
        let step = ReconstructionStep(generator: generator, loss: loss, batch: 1)
        return try scenes.map { scene -> Double? in
            let frames = Array(scene)
            guard frames.count >= 3 else { return nil }
            let even = frames.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            let held = frames.enumerated().filter { $0.offset % 2 == 1 && $0.element + 1 < scene.upperBound }.map(\.element)
            // The scene's targets, read once: the fit needs them all at every step.
            let sceneTargets = try targets.targets(scene)
            let local = { (t: Int) in sceneTargets.slice((t - scene.lowerBound)..<(t - scene.lowerBound + 1)) }
            let fit = try SceneProjector(settings: settings, budget: budget).run(
                generator: generator, statistics: statistics, loss: loss, targets: Tensor.concatenate(even.map(local)))
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
}
