/// LPIPS, the learned perceptual distance (Zhang et al. 2018) that NVIDIA's StyleGAN2 projector
/// minimises, with the VGG trunk, computed as the `lpips` package (0.1.4, net='vgg', version 0.1)
/// computes `LPIPS()(x0, x1, normalize=False)` for images already in [-1, 1]:
/// 1. ScalingLayer: (x - shift) / scale per channel, shift [-0.030, -0.088, -0.188], scale
///    [0.458, 0.448, 0.450] (ImageNet's mean and std, moved to [-1, 1]);
/// 2. torchvision's VGG16 `features` to relu5_3, tapping relu1_2, relu2_2, relu3_3, relu4_3, relu5_3;
/// 3. each tap unit-normalised over channels at every position: x / (sqrt(sum_c x^2) + 1e-10);
/// 4. the squared difference of the two images' normalised taps, weighed per channel by the tap's
///    linear layer (a 1x1 convolution to one channel, no bias; its dropout is the identity in eval
///    mode), averaged over the positions;
/// 5. summed over the five taps.
///
/// Per sample, as every `ImageLoss`: N distances, and the gradient of their sum with respect to the
/// prediction (the target is a constant), by a hand-written backward through the same steps:
/// the linear layers and normalisation (`LPIPSLoss+Distance.swift`), then VGG's ReLUs, convolutions
/// and pools in reverse (`VGG16Features.backward`). Images need H, W >= 16 (relu5_3 comes after four
/// halvings); they need not be square.
///
/// The target's tap features are cached between calls (see `TargetFeatureCache`): an optimiser's step
/// runs VGG's forward twice only on its first call, then once forward and once backward.
///
/// Memory, from one `LossScratch` reused between calls: every ReLU output of the prediction (the
/// backward needs their signs and the pools' inputs), two gradient buffers and the lowered columns:
/// about 110 MB per sample at 256 x 256, growing with the pixels (1.7 GB at 1024 x 1024: NVIDIA's
/// projector area-downsamples larger images to 256 x 256 before VGG, and callers should too), plus
/// the cached target's taps, 30 MB per sample at 256 x 256.
public struct LPIPSLoss: ImageLoss {
    /// ScalingLayer's `shift` and `scale`, as float32 as lpips registers them.
    public static let shift: [Float] = [-0.030, -0.088, -0.188]
    public static let scale: [Float] = [0.458, 0.448, 0.450]
    /// lpips's `normalize_tensor` eps, added to the norm.
    public static let epsilon: Float = 1e-10

    public var name: String { "lpips" }

    let trunk: VGG16Features
    let linear: [Tensor]  // [5], [C_k] each
    /// Workers a call splits its phases over at most; nil: `Parallel.threads` at each call. The
    /// results are the same bits with any count (every sum and GEMM is cut into fixed pieces).
    let threads: Int?
    private let scratch = LossScratch()
    private let cache = TargetFeatureCache<Tensor>()

    public init(weights: LPIPSWeights, threads: Int? = nil) {
        precondition((threads ?? 1) >= 1, "lpips: threads must be at least 1")
        trunk = VGG16Features(weights)
        linear = weights.linear
        self.threads = threads
    }

    /// From torchvision's VGG16 state_dict (`vgg16-397923af.pth`) and the lpips package's linear
    /// layers (`lpips/weights/v0.1/vgg.pth`); see `LPIPSWeights`.
    public init(vggPath: String, linPath: String) throws {
        try self.init(weights: LPIPSWeights(vggPath: vggPath, linPath: linPath))
    }

    /// Forgets the cached target features (their memory is freed; the next call recomputes them).
    public func clearTargetCache() { cache.clear() }

    /// Per-sample LPIPS distances [N].
    public func evaluate(
        _ prediction: Tensor, _ target: Tensor, accumulatingGradient gradient: inout Tensor?, scale: Float
    ) -> [Float] {
        let (n, _, _, _) = dimensions(prediction, target, gradient)
        let layers: [[Double]]
        if gradient != nil {
            layers = gradient!.withUnsafeMutableBufferPointer { g in
                run(prediction, target, gradient: g.baseAddress!, scale: scale)
            }
        } else {
            layers = run(prediction, target, gradient: nil, scale: 0)
        }
        return (0..<n).map { s in Float(layers.reduce(0) { $0 + $1[s] }) }
    }

    /// Each tap's term per sample, [5][N] (relu1_2 first): what lpips returns with `retPerLayer=True`.
    public func layerDistances(_ prediction: Tensor, _ target: Tensor) -> [[Float]] {
        _ = dimensions(prediction, target, nil)
        return run(prediction, target, gradient: nil, scale: 0).map { $0.map(Float.init) }
    }

    private func dimensions(_ prediction: Tensor, _ target: Tensor, _ gradient: Tensor?) -> (Int, Int, Int, Int) {
        let (n, c, h, w) = imageLossDimensions(name, prediction, target, gradient)
        precondition(c == 3, "lpips: images must have 3 channels (RGB), got \(c)")
        precondition(h >= 16 && w >= 16, "lpips: images must be at least 16 x 16 (VGG16 halves them four times), got \(h) x \(w)")
        return (n, c, h, w)
    }

    /// Per tap and sample, the distance terms; with `gradient`, adds scale * d(sum of distances) / d prediction.
    private func run(
        _ prediction: Tensor, _ target: Tensor, gradient: UnsafeMutablePointer<Float>?, scale: Float
    ) -> [[Double]] {
        let (n, h, w) = (prediction.shape[0], prediction.shape[2], prediction.shape[3])
        let threads = self.threads ?? Parallel.threads
        let plan = VGG16Features.Plan(
            trunk, batch: n, height: h, width: w, threads: threads, extraCount: threads * Self.distanceScratchPerWorker)
        let taps = LPIPSWeights.taps
        let tapCounts = taps.map { plan.count(trunk, $0) }
        var tapOffsets = [0]
        for count in tapCounts { tapOffsets.append(tapOffsets.last! + count) }

        return scratch.withBuffer(count: plan.total) { workspace in
            let distanceScratch = workspace + plan.extra
            // The target's normalised taps, [C_k, N, H_k, W_k] one after another: cached, or computed now.
            let targetFeatures: Tensor
            if let cached = cache.features(for: target) {
                targetFeatures = cached
            } else {
                targetFeatures = Tensor(shape: [tapOffsets.last!]) { out in
                    target.withUnsafeBufferPointer { trunk.forward($0.baseAddress!, plan: plan, workspace: workspace) }
                    for (k, j) in taps.enumerated() {
                        Self.normalise(
                            workspace + plan.activations[j], channels: trunk.widths[j], columns: n * plan.grids[j].h * plan.grids[j].w,
                            into: out.baseAddress! + tapOffsets[k], threads: threads)
                    }
                }
                cache.store(targetFeatures, for: target)
            }

            prediction.withUnsafeBufferPointer { trunk.forward($0.baseAddress!, plan: plan, workspace: workspace) }
            return targetFeatures.withUnsafeBufferPointer { t in
                var layers = [[Double]](repeating: [], count: taps.count)
                func tap(_ k: Int, gradient: UnsafeMutablePointer<Float>?) {
                    let j = taps[k]
                    layers[k] = distance(
                        tap: k, features: workspace + plan.activations[j], target: t.baseAddress! + tapOffsets[k],
                        batch: n, grid: plan.grids[j], gradient: gradient, scale: scale, scratch: distanceScratch, threads: threads)
                }
                if let gradient {
                    // The backward asks for every tap's gradient, deepest first; the values come with them.
                    trunk.backward(plan: plan, workspace: workspace, imageGradient: gradient) { k, into in tap(k, gradient: into) }
                } else {
                    for k in taps.indices { tap(k, gradient: nil) }
                }
                return layers
            }
        }
    }
}
