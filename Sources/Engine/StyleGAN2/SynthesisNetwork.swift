// The synthesis network and its walk over the blocks: `forward` runs each block's conv layers and
// ToRGB and adds the up-sampled image of the block before; `backward` runs the same walk in
// reverse, each layer's backward accumulating into the workspace's gradients. The layers live in
// SynthesisNetwork+ConvForward / +ConvBackward (the modulated 3x3 conv) and SynthesisNetwork+ToRGB;
// the lazily allocated gradient buffers in SynthesisNetwork+Gradients.
//
// Dimension letters: N batch, C channels (I in, O out of a layer), R x R the block's grid.
// Workspace activations are channel-major, [C, N, R, R]; the public tensors are [N, C, R, R].

/// NVIDIA's `SynthesisNetwork` ('skip' architecture): blocks b4 ... b{R}, each adding its ToRGB
/// output to the up-sampled image of the block before.
public struct SynthesisNetwork: Sendable {
    public var blocks: [SynthesisBlock]
    public let wDim: Int
    public let numWs: Int
    public let imgChannels: Int
    public let imgResolution: Int

    /// The modulated conv layers in execution order: b4.conv1, b8.conv0, b8.conv1, ...
    public var convLayers: [SynthesisLayer] {
        blocks.flatMap { b in [b.conv0, b.conv1].compactMap { $0 } }
    }

    /// The noise buffers' official names, in the order `NoiseMode.explicit` expects.
    public var noiseLayerNames: [String] { convLayers.map(\.noiseName) }
    public var noiseResolutions: [Int] { convLayers.map(\.resolution) }
}

/// What one backward returns.
public struct SynthesisGradients: Sendable {
    /// d/d ws, [N, num_ws, w_dim].
    public var ws: Tensor
    /// d/d noise per noise layer, shaped like the forward's noise: [R, R] for `.const`, else [1 or N, R, R];
    /// empty for `.none`.
    public var noise: [Tensor]
    /// d/d every synthesis parameter by official name (empty unless asked for).
    public var parameters: [String: Tensor]
}

extension SynthesisNetwork {
    /// img [N, C, R, R] = synthesis(ws [N, num_ws, w_dim]). Fills `workspace` for `backward`.
    public func forward(_ ws: Tensor, noise: NoiseMode = .const, workspace: SynthesisWorkspace) -> Tensor {
        let n = workspace.batch
        precondition(ws.shape == [n, numWs, wDim], "ws must be [\(n), \(numWs), \(wDim)], got \(ws.shape)")
        ws.withUnsafeBufferPointer { wp in
            let wsBase = wp.baseAddress!
            // The learned constant, repeated over the batch: [C, N, 4, 4].
            let c = blocks[0].conv1.inChannels
            blocks[0].const!.withUnsafeBufferPointer { k in
                for ch in 0..<c {
                    for s in 0..<n { (workspace.constInput.pointer + (ch * n + s) * 16).update(from: k.baseAddress! + ch * 16, count: 16) }
                }
            }
            var input = UnsafePointer(workspace.constInput.pointer)
            var layerIndex = 0
            for (bi, block) in blocks.enumerated() {
                if let l = block.conv0, let st = workspace.conv0[bi] {
                    prepareNoise(l, st, noise, layerIndex: layerIndex, batch: n)
                    convForward(l, st, input: input, ws: wsBase, workspace: workspace)
                    input = UnsafePointer(st.out.pointer)
                    layerIndex += 1
                }
                let st1 = workspace.conv1[bi]
                prepareNoise(block.conv1, st1, noise, layerIndex: layerIndex, batch: n)
                convForward(block.conv1, st1, input: input, ws: wsBase, workspace: workspace)
                input = UnsafePointer(st1.out.pointer)
                layerIndex += 1
                let rs = workspace.rgb[bi]
                rgbForward(block.torgb, rs, input: input, ws: wsBase, workspace: workspace)
                let hw = block.resolution * block.resolution
                if bi == 0 {
                    rs.img.pointer.update(from: rs.y.pointer, count: rs.y.count)
                } else {
                    let half = block.resolution / 2
                    let axis = UpFirDnAxis(up: 2, pad0: 2, pad1: 1, taps: block.imageUpTaps)
                    upFirDn2d(
                        workspace.rgb[bi - 1].img.pointer, planes: imgChannels * n, height: half, width: half, axis: axis,
                        into: rs.img.pointer, scratch: workspace.firScratch.pointer)
                    for i in 0..<(imgChannels * n * hw) { rs.img.pointer[i] += rs.y.pointer[i] }
                }
            }
        }
        workspace.forwardDone = true
        return ChannelLayout.toNCHW(workspace.rgb[blocks.count - 1].img.pointer, channels: imgChannels, batch: n, resolution: imgResolution)
    }

    /// Block `resolution`'s outputs from the last forward, NCHW: (x [N, C, r, r], img [N, img_channels, r, r]).
    public func blockOutputs(resolution: Int, workspace: SynthesisWorkspace) -> (x: Tensor, img: Tensor) {
        let bi = resolution.trailingZeroBitCount - 2
        let b = blocks[bi]
        let n = workspace.batch
        let x = ChannelLayout.toNCHW(workspace.conv1[bi].out.pointer, channels: b.conv1.outChannels, batch: n, resolution: resolution)
        let img = ChannelLayout.toNCHW(workspace.rgb[bi].img.pointer, channels: imgChannels, batch: n, resolution: resolution)
        return (x, img)
    }

    /// Gradients of sum(img * gradImage) for the last forward on `workspace`.
    public func backward(
        _ gradImage: Tensor, workspace: SynthesisWorkspace, ws: Tensor, parameterGradients: Bool = false
    ) -> SynthesisGradients {
        precondition(workspace.forwardDone, "backward needs a forward on the same workspace first")
        let n = workspace.batch
        precondition(gradImage.shape == [n, imgChannels, imgResolution, imgResolution])
        workspace.gWs.zero()
        workspace.gConstInput.zero()
        for st in workspace.conv1 { st.gOut.zero() }
        for st in workspace.conv0 { st?.gOut.zero() }
        for g in workspace.noiseGradients { g.zero() }
        if parameterGradients {
            if workspace.parameterGradients.isEmpty { allocateParameterGradients(workspace) }
            for (_, g) in workspace.parameterGradients { g.zero() }
        }
        let last = blocks.count - 1
        gradImage.withUnsafeBufferPointer { g in
            ChannelLayout.fromNCHW(g.baseAddress!, channels: imgChannels, batch: n, resolution: imgResolution, into: workspace.rgb[last].gImg.pointer)
        }
        ws.withUnsafeBufferPointer { wp in
            let wsBase = wp.baseAddress!
            var layerIndex = convLayers.count - 1
            for bi in stride(from: last, through: 0, by: -1) {
                let block = blocks[bi]
                let rs = workspace.rgb[bi]
                if bi > 0 {
                    let half = block.resolution / 2
                    let axis = UpFirDnAxis(up: 2, pad0: 2, pad1: 1, taps: block.imageUpTaps)
                    upFirDn2dBackward(
                        rs.gImg.pointer, planes: imgChannels * n, height: half, width: half, axis: axis,
                        into: workspace.rgb[bi - 1].gImg.pointer, accumulate: false, scratch: workspace.firScratch.pointer)
                }
                let st1 = workspace.conv1[bi]
                rgbBackward(block.torgb, rs, input: st1.out.pointer, gInput: st1.gOut.pointer, ws: wsBase, workspace: workspace, params: parameterGradients)
                let conv1Input = workspace.conv0[bi]?.out.pointer ?? workspace.constInput.pointer
                let conv1GInput = workspace.conv0[bi]?.gOut.pointer ?? workspace.gConstInput.pointer
                convBackward(block.conv1, st1, input: conv1Input, gInput: conv1GInput, ws: wsBase, workspace: workspace, layerIndex: layerIndex, params: parameterGradients)
                layerIndex -= 1
                if let l = block.conv0, let st0 = workspace.conv0[bi] {
                    let prev = workspace.conv1[bi - 1]
                    convBackward(l, st0, input: prev.out.pointer, gInput: prev.gOut.pointer, ws: wsBase, workspace: workspace, layerIndex: layerIndex, params: parameterGradients)
                    layerIndex -= 1
                }
            }
        }
        var params: [String: Tensor] = [:]
        if parameterGradients {
            // The constant's gradient sums over the batch it was repeated to.
            let c = blocks[0].conv1.inChannels
            let gConst = workspace.parameterGradients["synthesis.b4.const"]!
            for ch in 0..<c { for s in 0..<n { for p in 0..<16 { gConst.pointer[ch * 16 + p] += workspace.gConstInput.pointer[(ch * n + s) * 16 + p] } } }
            for (name, shape) in parameterShapes() {
                let b = workspace.parameterGradients[name]!
                params[name] = Tensor(shape: shape) { $0.baseAddress!.update(from: b.pointer, count: b.count) }
            }
        }
        let gws = Tensor(shape: [n, numWs, wDim]) { $0.baseAddress!.update(from: workspace.gWs.pointer, count: workspace.gWs.count) }
        var gnoise: [Tensor] = []
        for (i, l) in convLayers.enumerated() where i < workspace.noiseGradients.count {
            let st = convState(i, workspace)
            let b = workspace.noiseGradients[i]
            if !st.hasNoise { continue }
            let shape = st.noisePerSample ? [n, l.resolution, l.resolution] : (b.count == l.resolution * l.resolution && !st.noiseShapeExplicit ? [l.resolution, l.resolution] : [1, l.resolution, l.resolution])
            gnoise.append(Tensor(shape: shape) { $0.baseAddress!.update(from: b.pointer, count: b.count) })
        }
        return SynthesisGradients(ws: gws, noise: gnoise, parameters: params)
    }

    // MARK: - Walk helpers

    /// Conv layer `index`'s state (execution order, as `convLayers`).
    private func convState(_ index: Int, _ workspace: SynthesisWorkspace) -> SynthesisWorkspace.ConvState {
        var i = 0
        for bi in blocks.indices {
            if let st0 = workspace.conv0[bi] { if i == index { return st0 }; i += 1 }
            if i == index { return workspace.conv1[bi] }
            i += 1
        }
        fatalError("no conv layer \(index)")
    }

    /// The activations of the last forward with |output| < `threshold`, over every conv layer: where
    /// another float32 implementation's sum may land on the other side of the lrelu's kink.
    public func activationsNearZero(threshold: Float, workspace: SynthesisWorkspace) -> [ActivationSite] {
        var sites: [ActivationSite] = []
        for index in convLayers.indices {
            let st = convState(index, workspace)
            let l = convLayers[index]
            let hw = l.resolution * l.resolution
            for o in 0..<l.outChannels {
                for smp in 0..<workspace.batch {
                    for p in 0..<hw where abs(st.out.pointer[(o * workspace.batch + smp) * hw + p]) < threshold {
                        sites.append(ActivationSite(layer: index, channel: o, sample: smp, pixel: p, value: st.out.pointer[(o * workspace.batch + smp) * hw + p]))
                    }
                }
            }
        }
        return sites
    }

    /// Every synthesis parameter's official name and shape.
    public func parameterShapes() -> [(String, [Int])] {
        var out: [(String, [Int])] = [("synthesis.b4.const", blocks[0].const!.shape)]
        for b in blocks {
            for l in [b.conv0, b.conv1].compactMap({ $0 }) {
                out += [
                    (l.name + ".weight", l.weight.shape), (l.name + ".noise_strength", []), (l.name + ".bias", l.bias.shape),
                    (l.name + ".affine.weight", l.affine.weight.shape), (l.name + ".affine.bias", l.affine.bias.shape),
                ]
            }
            let t = b.torgb
            out += [
                (t.name + ".weight", t.weight.shape), (t.name + ".bias", t.bias.shape),
                (t.name + ".affine.weight", t.affine.weight.shape), (t.name + ".affine.bias", t.affine.bias.shape),
            ]
        }
        return out
    }
}
