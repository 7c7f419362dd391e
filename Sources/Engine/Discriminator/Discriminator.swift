// NVIDIA's StyleGAN2 `Discriminator` (stylegan2-ada-pytorch training/networks.py, architecture
// 'resnet', c_dim 0, float32): blocks b<R> ... b8, then the epilogue b4. Here as a feature
// extractor for losses: the forward keeps every block's activations, and the backward gives the
// input image's gradient for upstream gradients on any of them (no parameter gradients).
// The passes are Discriminator+Forward / +Backward over a `DiscriminatorWorkspace`.
//
// Dimension letters: N batch, C channels (T inside a block, O out of it), R x R a block's grid.
// Workspace activations are [C, N, R, R]; the public tensors are [N, C, R, R].

/// A StyleGAN2 discriminator with its configuration.
public struct Discriminator: Sendable {
    public let config: DiscriminatorConfig
    /// b<imgResolution> first, down to b8. Layers' biases may be changed in place (tests move them);
    /// their weights are fixed, the shapes must stay.
    public var blocks: [DiscriminatorBlock]
    public var epilogue: DiscriminatorEpilogue

    public init(config: DiscriminatorConfig, blocks: [DiscriminatorBlock], epilogue: DiscriminatorEpilogue) {
        self.config = config
        self.blocks = blocks
        self.epilogue = epilogue
    }

    /// Every output the forward can stop after, in execution order.
    public var outputs: [DiscriminatorOutput] {
        blocks.map { .block(resolution: $0.resolution) } + [.mbstd, .conv, .fc, .logits]
    }

    /// The shape of `output` for a batch of `batch`, as the public tensors have it.
    public func shape(of output: DiscriminatorOutput, batch n: Int) -> [Int] {
        switch output {
        case .block(let r):
            let b = blocks[blockIndex(r)]
            return [n, b.outChannels, r / 2, r / 2]
        case .mbstd: return [n, epilogue.conv.inChannels, 4, 4]
        case .conv: return [n, epilogue.channels, 4, 4]
        case .fc: return [n, epilogue.channels]
        case .logits: return [n, 1]
        }
    }

    /// The index in `blocks` of b<resolution>.
    func blockIndex(_ resolution: Int) -> Int {
        guard let i = blocks.firstIndex(where: { $0.resolution == resolution }) else {
            preconditionFailure("this discriminator has no block b\(resolution) (it has \(blocks.map(\.name)))")
        }
        return i
    }

    /// Parameters (not buffers) as NVIDIA counts them.
    public var parameterCount: Int {
        var total = 0
        for b in blocks {
            for l in [b.fromrgb, b.conv0, b.conv1, b.skip].compactMap({ $0 }) { total += l.weight.count + (l.bias?.count ?? 0) }
        }
        total += epilogue.conv.weight.count + (epilogue.conv.bias?.count ?? 0)
        for l in [epilogue.fc, epilogue.out] { total += l.weight.count + l.bias.count }
        return total
    }

    /// Every output for img [N, C, R, R]; a convenience that allocates its own workspace.
    public func callAsFunction(_ images: Tensor) -> [DiscriminatorOutput: Tensor] {
        let workspace = DiscriminatorWorkspace(discriminator: self, batch: images.shape[0])
        forward(images, workspace: workspace)
        var out: [DiscriminatorOutput: Tensor] = [:]
        for o in outputs { out[o] = workspace.activation(o) }
        return out
    }
}
