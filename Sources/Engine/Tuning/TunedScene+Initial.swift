extension TunedScene {
    /// Where tuning starts: deltas that change nothing, for the parameters `settings` tunes.
    ///
    /// A low-rank delta starts as LoRA does, up = 0 and down random, so the product is 0 and the
    /// gradient reaches up at once. down's entries are N(0, 1/r): a step of Adam moves each of up's
    /// entries by about the learning rate, which moves the weight by about lr · sqrt(r) · 1/sqrt(r) =
    /// lr, as a dense Adam step would; so one learning rate serves the factors and the small tensors,
    /// whatever the rank. Each factor draws from its own stream of the seed (by its place in the
    /// network), so a tensor's start does not depend on which others are tuned.
    public static func initial(for synthesis: SynthesisNetwork, settings: SceneTuningSettings) -> TunedScene {
        var lowRank: [String: LowRankDelta] = [:]
        var dense: [String: Tensor] = [:]
        for (index, (name, shape)) in synthesis.parameterShapes().enumerated() {
            let isConvWeight = name.hasSuffix(".weight") && !name.hasSuffix("affine.weight") && !name.contains(".torgb.")
            let rank = isConvWeight ? settings.rank : name.hasSuffix("affine.weight") ? settings.affineRank : 0
            if rank > 0 {
                var rng = GaussianNoise(seed: settings.seed, stream: index)
                let r = min(rank, shape[0], shape.dropFirst().reduce(1, *))
                let scale = 1 / Float(r).squareRoot()
                let down = Tensor(shape: [r] + shape.dropFirst()) { p in for i in 0..<p.count { p[i] = rng.next() * scale } }
                lowRank[name] = LowRankDelta(up: Tensor(zeros: [shape[0], r]), down: down)
            } else if settings.tuneSmallTensors && !isConvWeight && !name.hasSuffix("affine.weight") {
                // Biases, noise strengths, affine biases, ToRGB weights and the constant.
                dense[name] = Tensor(zeros: shape)
            }
        }
        var noiseOffsets: [String: Tensor] = [:]
        if settings.noiseLearningRate > 0 {
            for (name, r) in zip(synthesis.noiseLayerNames, synthesis.noiseResolutions) { noiseOffsets[name] = Tensor(zeros: [r, r]) }
        }
        return TunedScene(lowRank: lowRank, dense: dense, noiseOffsets: noiseOffsets, modelHash: modelHash(synthesis))
    }
}
