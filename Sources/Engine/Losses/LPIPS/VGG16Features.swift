// VGG16's convolutional trunk as LPIPS runs it: torchvision's `vgg16().features[0:30]`, from the
// first convolution to relu5_3, with the activations the backward needs kept in a workspace.
//
// Dimension letters: N batch, C channels, H x W a layer's grid (H_j x W_j for convolution j: the input's,
// halved (floor) at each of the four pools). Activations are channel-major, [C, N, H, W], so that a
// batch shares each convolution's GEMM. Convolution j (0 ... 12) is torchvision's
// features.{0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28}; a 2x2 max pool precedes 2, 4, 7 and 10.

/// The trunk's weights, prepared for the forward and the input gradient.
struct VGG16Features: Sendable {
    let widths: [Int]  // [13] output channels of each convolution
    let weights: [Tensor]  // [O, I, 3, 3] each
    let biases: [Tensor]  // [O]
    /// The input gradient's weights, [I, O 9]: each kernel flipped in both axes, transposed
    /// (`flippedTransposedConv3x3Weight`), so that the backward is the same convolution kernel.
    let flippedWeights: [Tensor]

    init(_ weights: LPIPSWeights) {
        widths = weights.convolutions.map(\.outChannels)
        self.weights = weights.convolutions.map(\.weight)
        biases = weights.convolutions.map(\.bias)
        flippedWeights = weights.convolutions.map { conv in
            let (co, ci) = (conv.outChannels, conv.inChannels)
            return Tensor(shape: [ci, co * 9]) { wf in
                conv.weight.withUnsafeBufferPointer { w in
                    flippedTransposedConv3x3Weight(w.baseAddress!, outChannels: co, inChannels: ci, into: wf.baseAddress!)
                }
            }
        }
    }

    var inChannels: [Int] { [3] + widths.dropLast() }

    /// Where every buffer of one batch shape lies in the workspace (offsets in floats), and each
    /// convolution's cut. One plan per (N, H, W, threads); the workspace is a `LossScratch`.
    struct Plan {
        let batch: Int, height: Int, width: Int
        let threads: Int  // workers at most in any phase
        let grids: [(h: Int, w: Int)]  // [13] each convolution's grid
        let input: Int  // [3, N, H, W] the scaled image
        let activations: [Int]  // [13] each convolution's ReLU output [C_j, N, H_j, W_j]
        let pooled: Int  // the latest pool's output [C, N, H_j, W_j]
        let gradients: (Int, Int)  // two gradient buffers, each as large as the largest activation
        let scratch: Int  // the convolutions' lowered columns
        let extra: Int  // floats after the trunk's, for the caller (`extraCount`)
        let total: Int
        let forward: [PlainConv3x3]  // [13]
        let backward: [PlainConv3x3]  // [13] input gradients: O -> I channels

        init(_ net: VGG16Features, batch n: Int, height h: Int, width w: Int, threads: Int, extraCount: Int) {
            batch = n
            height = h
            width = w
            self.threads = threads
            var grids: [(h: Int, w: Int)] = []
            var (gh, gw) = (h, w)
            for j in 0..<13 {
                if LPIPSWeights.pooledBefore.contains(j) { (gh, gw) = (gh / 2, gw / 2) }
                grids.append((gh, gw))
            }
            self.grids = grids
            var offset = 0
            func take(_ count: Int) -> Int {
                defer { offset += (count + 15) / 16 * 16 }  // 64-byte aligned starts
                return offset
            }
            let inChannels = net.inChannels
            input = take(3 * n * h * w)
            activations = (0..<13).map { j in take(net.widths[j] * n * grids[j].h * grids[j].w) }
            pooled = take(LPIPSWeights.pooledBefore.map { inChannels[$0] * n * grids[$0].h * grids[$0].w }.max()!)
            let largest = (0..<13).map { net.widths[$0] * n * grids[$0].h * grids[$0].w }.max()!
            gradients = (take(max(largest, 3 * n * h * w)), take(max(largest, 3 * n * h * w)))
            forward = (0..<13).map { j in
                PlainConv3x3(inChannels: inChannels[j], outChannels: net.widths[j], batch: n, height: grids[j].h, width: grids[j].w, threads: threads)
            }
            backward = (0..<13).map { j in
                PlainConv3x3(inChannels: net.widths[j], outChannels: inChannels[j], batch: n, height: grids[j].h, width: grids[j].w, threads: threads)
            }
            scratch = take((forward + backward).map(\.scratchCount).max()!)
            extra = take(extraCount)
            total = offset
        }

        /// Elements of convolution j's activation.
        func count(_ net: VGG16Features, _ j: Int) -> Int { net.widths[j] * batch * grids[j].h * grids[j].w }
    }

    /// Runs the trunk on images [N, 3, H, W] (in [-1, 1]; LPIPS's ScalingLayer is applied here),
    /// leaving every convolution's ReLU output in the workspace at `plan.activations`.
    func forward(_ images: UnsafePointer<Float>, plan: Plan, workspace: UnsafeMutablePointer<Float>) {
        let (n, h, w) = (plan.batch, plan.height, plan.width)
        let hw = h * w
        // ScalingLayer: (x - shift) / scale per channel, as lpips computes it (a division, not a product).
        let x0 = workspace + plan.input
        for c in 0..<3 {
            let shift = LPIPSLoss.shift[c], scale = LPIPSLoss.scale[c]
            for s in 0..<n {
                let src = images + (s * 3 + c) * hw
                let dst = x0 + (c * n + s) * hw
                for p in 0..<hw { dst[p] = (src[p] - shift) / scale }
            }
        }
        var x = UnsafePointer(x0)
        for j in 0..<13 {
            if LPIPSWeights.pooledBefore.contains(j) {
                let below = plan.grids[j - 1]
                let pooled = workspace + plan.pooled
                Self.parallelPlanes(widths[j - 1] * n, work: below.h * below.w, threads: plan.threads) { planes in
                    maxPool2x2Forward(x, height: below.h, width: below.w, planes: planes, into: pooled)
                }
                x = UnsafePointer(pooled)
            }
            let y = workspace + plan.activations[j]
            weights[j].withUnsafeBufferPointer { wb in
                biases[j].withUnsafeBufferPointer { bb in
                    plan.forward[j].forward(
                        x, weight: wb.baseAddress!, bias: bb.baseAddress!, relu: true, into: y, scratch: workspace + plan.scratch)
                }
            }
            x = UnsafePointer(y)
        }
    }

    /// The input gradient of the trunk. `tapGradient(k, into:)` adds the gradient of tap k's
    /// activation (convolution `LPIPSWeights.taps[k]`) into the buffer it is given; the images'
    /// gradient [N, 3, H, W] is added into `imageGradient` (ScalingLayer's 1 / scale included).
    /// Needs `forward`'s activations; overwrites the gradient buffers and the scratch.
    func backward(
        plan: Plan, workspace: UnsafeMutablePointer<Float>, imageGradient: UnsafeMutablePointer<Float>,
        tapGradient: (_ tap: Int, _ into: UnsafeMutablePointer<Float>) -> Void
    ) {
        let n = plan.batch
        var g = workspace + plan.gradients.0  // d / d (convolution j's ReLU output)
        var other = workspace + plan.gradients.1
        g.update(repeating: 0, count: plan.count(self, 12))
        tapGradient(LPIPSWeights.taps.count - 1, g)
        for j in stride(from: 12, through: 0, by: -1) {
            // Through the ReLU: torch's threshold_backward passes the gradient where the output is > 0.
            let y = UnsafePointer(workspace + plan.activations[j])
            nonisolated(unsafe) let (gm, ym) = (g, y)
            let count = plan.count(self, j)
            Parallel.split(count, granule: 1024, maxParts: count >= 1 << 16 ? plan.forward[j].parts : 1) { _, range in
                for i in range where !(ym[i] > 0) { gm[i] = 0 }
            }
            // Through the convolution: the same kernel with the flipped, transposed weight.
            flippedWeights[j].withUnsafeBufferPointer { wf in
                plan.backward[j].forward(
                    g, weight: wf.baseAddress!, bias: nil, relu: false, into: other, scratch: workspace + plan.scratch)
            }
            swap(&g, &other)
            if j == 0 { break }
            if LPIPSWeights.pooledBefore.contains(j) {
                // Through the pool, onto convolution j - 1's output grid.
                let below = plan.grids[j - 1]
                let x = UnsafePointer(workspace + plan.activations[j - 1])
                nonisolated(unsafe) let (gy, gx) = (UnsafePointer(g), other)
                Self.parallelPlanes(widths[j - 1] * n, work: below.h * below.w, threads: plan.threads) { planes in
                    maxPool2x2Backward(x, height: below.h, width: below.w, planes: planes, gradient: gy, into: gx)
                }
                swap(&g, &other)
            }
            if let k = LPIPSWeights.taps.firstIndex(of: j - 1) { tapGradient(k, g) }
        }
        // g: d / d (scaled input) [3, N, H, W]; the ScalingLayer divided by scale.
        let hw = plan.height * plan.width
        for c in 0..<3 {
            let scale = LPIPSLoss.scale[c]
            for s in 0..<n {
                let src = g + (c * n + s) * hw
                let dst = imageGradient + (s * 3 + c) * hw
                for p in 0..<hw { dst[p] += src[p] / scale }
            }
        }
    }

    /// body(planes) over `planes` planes of `work` elements each, split between workers when large
    /// (elementwise work: the split never changes the bits).
    private static func parallelPlanes(_ planes: Int, work: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        Parallel.split(planes, maxParts: planes * work >= 1 << 16 ? threads : 1) { _, range in body(range) }
    }
}
