import Foundation

/// A perceptual loss that needs no download: the distance between the activations of the
/// checkpoint's own discriminator (trained on the same film) for the reconstruction and the target.
///
/// For each chosen block k with activations [C, H, W], each pixel's channel vector is scaled to unit
/// length (as LPIPS does with VGG's: it makes blocks of very different magnitudes comparable and
/// leaves the direction, what D's filters respond to, to be matched), and
///   d_k = mean over pixels of || x / |x| - y / |y| ||^2,   loss = sum over k of weight_k d_k.
/// Only blocks before D's epilogue are used: from b4.mbstd on, a sample's activations depend on the
/// other samples of its minibatch-std group, so a frame's loss would depend on its batch.
/// (Which blocks and weights: measured on the bundled clip, README "Perceptual losses".)
public struct DiscriminatorFeatureLoss: ImageLoss {
    public let name: String
    public let discriminator: Discriminator
    /// The blocks compared, in D's order, and their weights.
    public let layers: [DiscriminatorOutput]
    public let weights: [Float]
    private let state: State

    /// Guards the zero vector's direction.
    static let epsilon: Float = 1e-10

    /// `layers`: blocks before the epilogue (default: all of them, weighted equally).
    public init(discriminator: Discriminator, layers: [DiscriminatorOutput]? = nil, weights: [Float]? = nil, name: String = "dfeat") {
        let blocks = discriminator.outputs.filter { !$0.inEpilogue }
        let chosen = (layers ?? blocks).sorted()
        precondition(!chosen.isEmpty && chosen.allSatisfy(blocks.contains), "dfeat compares blocks before the epilogue, got \(chosen)")
        precondition(weights == nil || weights!.count == chosen.count, "one weight per block")
        self.name = name
        self.discriminator = discriminator
        self.layers = chosen
        self.weights = weights ?? Array(repeating: 1, count: chosen.count)
        state = State(discriminator: discriminator)
    }

    public func evaluate(
        _ prediction: Tensor, _ target: Tensor, accumulatingGradient gradient: inout Tensor?, scale: Float
    ) -> [Float] {
        let (n, c, h, w) = imageLossDimensions(name, prediction, target, gradient)
        let config = discriminator.config
        precondition(
            c == config.imgChannels && h == config.imgResolution && w == config.imgResolution,
            "\(name): the discriminator takes [N, \(config.imgChannels), \(config.imgResolution), \(config.imgResolution)], got \(prediction.shape)")
        return state.locked { ws in
            let ws = ws(n)
            let deepest = layers.last!
            // The target's unit features: the same target comes every step of an optimisation.
            let targetFeatures: [Tensor]
            if let cached = state.cache.features(for: target) {
                targetFeatures = cached
            } else {
                discriminator.forward(target, through: deepest, workspace: ws)
                targetFeatures = layers.map { Self.unitFeatures(ws.activation($0)) }
                state.cache.store(targetFeatures, for: target)
            }
            discriminator.forward(prediction, through: deepest, workspace: ws)
            var losses = [Float](repeating: 0, count: n)
            var upstream: [DiscriminatorOutput: Tensor] = [:]
            for (k, layer) in layers.enumerated() {
                let x = ws.activation(layer)
                let (values, g) = Self.distance(x, unitTarget: targetFeatures[k], weight: weights[k], wantGradient: gradient != nil)
                for i in 0..<n { losses[i] += weights[k] * values[i] }
                if let g { upstream[layer] = g }
            }
            if gradient != nil {
                let g = discriminator.backward(upstream, workspace: ws)
                gradient!.withUnsafeMutableBufferPointer { dst in
                    g.withUnsafeBufferPointer { src in for i in 0..<dst.count { dst[i] += scale * src[i] } }
                }
            }
            return losses
        }
    }

    /// x [N, C, H, W] with each pixel's channel vector scaled to unit length.
    static func unitFeatures(_ x: Tensor) -> Tensor {
        let (n, c) = (x.shape[0], x.shape[1])
        let hw = x.count / (n * c)
        var y = x
        y.withUnsafeMutableBufferPointer { p in
            for s in 0..<n {
                for q in 0..<hw {
                    var sum: Float = 0
                    for ch in 0..<c { let v = p[(s * c + ch) * hw + q]; sum += v * v }
                    let inv = 1 / (sum.squareRoot() + epsilon)
                    for ch in 0..<c { p[(s * c + ch) * hw + q] *= inv }
                }
            }
        }
        return y
    }

    /// Per sample mean over pixels of ||x / |x| - t||^2 for x [N, C, H, W] and unit target t; with
    /// `wantGradient`, weight * its gradient with respect to x (the upstream D's backward takes).
    static func distance(_ x: Tensor, unitTarget t: Tensor, weight: Float, wantGradient: Bool) -> (values: [Float], gradient: Tensor?) {
        let (n, c) = (x.shape[0], x.shape[1])
        let hw = x.count / (n * c)
        var values = [Float](repeating: 0, count: n)
        var g: Tensor? = wantGradient ? Tensor(zeros: x.shape) : nil
        let perPixel = weight / Float(hw)
        x.withUnsafeBufferPointer { xp in
            t.withUnsafeBufferPointer { tp in
                var r = [Float](repeating: 0, count: c)
                for s in 0..<n {
                    var total: Float = 0
                    for q in 0..<hw {
                        var sum: Float = 0
                        for ch in 0..<c { let v = xp[(s * c + ch) * hw + q]; sum += v * v }
                        let norm = sum.squareRoot()
                        let denominator = norm + epsilon
                        var d: Float = 0
                        var xDotG: Float = 0
                        for ch in 0..<c {
                            let i = (s * c + ch) * hw + q
                            let diff = xp[i] / denominator - tp[i]
                            d += diff * diff
                            // d/du of weight * mean ||u - t||^2, and x . that for the normalisation's term.
                            r[ch] = 2 * perPixel * diff
                            xDotG += xp[i] * r[ch]
                        }
                        total += d
                        if g != nil {
                            // u = x / (|x| + eps): du_i/dx_j = d_ij / D - x_i x_j / (|x| D^2).
                            let second = norm > 0 ? xDotG / (norm * denominator * denominator) : 0
                            g!.withUnsafeMutableBufferPointer { gp in
                                for ch in 0..<c {
                                    let i = (s * c + ch) * hw + q
                                    gp[i] = r[ch] / denominator - xp[i] * second
                                }
                            }
                        }
                    }
                    values[s] = total / Float(hw)
                }
            }
        }
        return (values, g)
    }

    /// The discriminator's workspaces (one per batch size), used by one evaluation at a time (the
    /// optimiser's calls come one after another), and the last target's features.
    final class State: @unchecked Sendable {
        let discriminator: Discriminator
        let cache = TargetFeatureCache<[Tensor]>()
        private let lock = NSLock()
        private var workspaces: [Int: DiscriminatorWorkspace] = [:]

        init(discriminator: Discriminator) { self.discriminator = discriminator }

        func locked<R>(_ body: (_ workspace: (Int) -> DiscriminatorWorkspace) -> R) -> R {
            lock.lock()
            defer { lock.unlock() }
            return body({ n in
                if let w = self.workspaces[n] { return w }
                let w = DiscriminatorWorkspace(discriminator: self.discriminator, batch: n)
                self.workspaces[n] = w
                return w
            })
        }
    }
}
