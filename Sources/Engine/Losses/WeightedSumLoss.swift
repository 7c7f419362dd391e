/// A weighted sum of image losses: loss_n = sum over terms of weight * term.loss_n, its gradient the
/// same sum of the terms' gradients (accumulated into the caller's tensor, no temporaries).
public struct WeightedSumLoss: ImageLoss {
    public struct Term: Sendable {
        public let weight: Float
        public let loss: any ImageLoss

        public init(_ weight: Float, _ loss: any ImageLoss) {
            self.weight = weight
            self.loss = loss
        }
    }

    public let name: String
    public let terms: [Term]

    public init(name: String, _ terms: [Term]) {
        precondition(!terms.isEmpty, "a weighted sum of losses needs at least one term")
        self.name = name
        self.terms = terms
    }

    public func evaluate(
        _ prediction: Tensor, _ target: Tensor, accumulatingGradient gradient: inout Tensor?, scale: Float
    ) -> [Float] {
        _ = imageLossDimensions(name, prediction, target, gradient)
        var total = [Float](repeating: 0, count: prediction.shape[0])
        for term in terms {
            let values = term.loss.evaluate(prediction, target, accumulatingGradient: &gradient, scale: scale * term.weight)
            for i in total.indices { total[i] += term.weight * values[i] }
        }
        return total
    }

    /// Each term's per-sample values (unweighted), for logs that show what the sum is made of.
    public func breakdown(_ prediction: Tensor, _ target: Tensor) -> [(name: String, weight: Float, values: [Float])] {
        terms.map { ($0.loss.name, $0.weight, $0.loss.evaluate(prediction, target)) }
    }
}

extension WeightedSumLoss {
    /// Zhao, Gallo, Frosio & Kautz, "Loss Functions for Image Restoration with Neural Networks" (IEEE TCI
    /// 2017): alpha (1 - MS-SSIM) + (1 - alpha) L1 with alpha = 0.84. (The paper weights the L1 term by
    /// the coarsest scale's Gaussian because it scores patch centres; over whole images the plain mean
    /// is the analogue.)
    public static func mix(alpha: Float = 0.84) -> WeightedSumLoss {
        WeightedSumLoss(name: "mix", [Term(alpha, MSSSIMLoss()), Term(1 - alpha, L1Loss())])
    }

    /// linstory's default reconstruction loss: mix + Laplacian-pyramid L1, weighted equally.
    public static func standard() -> WeightedSumLoss {
        WeightedSumLoss(name: "default", [Term(1, mix()), Term(1, LaplacianPyramidL1Loss())])
    }
}
