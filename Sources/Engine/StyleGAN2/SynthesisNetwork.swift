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
    public var noiseLayerNames: [String] { convLayers.map { $0.name + ".noise_const" } }
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
    public func forward(_ ws: Tensor, noise: NoiseMode = .const, workspace ws_: SynthesisWorkspace) -> Tensor {
        let n = ws_.batch
        precondition(ws.shape == [n, numWs, wDim], "ws must be [\(n), \(numWs), \(wDim)], got \(ws.shape)")
        ws.withUnsafeBufferPointer { wp in
            let wsBase = wp.baseAddress!
            // The learned constant, repeated over the batch: [C, N, 4, 4].
            let c = blocks[0].conv1.inChannels
            blocks[0].const!.withUnsafeBufferPointer { k in
                for ch in 0..<c {
                    for s in 0..<n { (ws_.constInput.pointer + (ch * n + s) * 16).update(from: k.baseAddress! + ch * 16, count: 16) }
                }
            }
            var input = UnsafePointer(ws_.constInput.pointer)
            var layerIndex = 0
            for (bi, block) in blocks.enumerated() {
                if let l = block.conv0, let st = ws_.conv0[bi] {
                    prepareNoise(l, st, noise, layerIndex: layerIndex, batch: n)
                    convForward(l, st, input: input, ws: wsBase, workspace: ws_)
                    input = UnsafePointer(st.out.pointer)
                    layerIndex += 1
                }
                let st1 = ws_.conv1[bi]
                prepareNoise(block.conv1, st1, noise, layerIndex: layerIndex, batch: n)
                convForward(block.conv1, st1, input: input, ws: wsBase, workspace: ws_)
                input = UnsafePointer(st1.out.pointer)
                layerIndex += 1
                let rs = ws_.rgb[bi]
                rgbForward(block.torgb, rs, input: input, ws: wsBase, batch: n)
                let hw = block.resolution * block.resolution
                if bi == 0 {
                    rs.img.pointer.update(from: rs.y.pointer, count: rs.y.count)
                } else {
                    let half = block.resolution / 2
                    let axis = UpFirDnAxis(up: 2, pad0: 2, pad1: 1, taps: block.imageUpTaps)
                    upFirDn2d(
                        ws_.rgb[bi - 1].img.pointer, planes: imgChannels * n, height: half, width: half, axis: axis,
                        into: rs.img.pointer, scratch: ws_.firScratch.pointer)
                    for i in 0..<(imgChannels * n * hw) { rs.img.pointer[i] += rs.y.pointer[i] }
                }
            }
        }
        ws_.forwardDone = true
        return Self.toNCHW(ws_.rgb[blocks.count - 1].img.pointer, channels: imgChannels, batch: n, resolution: imgResolution)
    }

    /// Block `resolution`'s outputs from the last forward, NCHW: (x [N, C, r, r], img [N, img_channels, r, r]).
    public func blockOutputs(resolution: Int, workspace: SynthesisWorkspace) -> (x: Tensor, img: Tensor) {
        let bi = resolution.trailingZeroBitCount - 2
        let b = blocks[bi]
        let n = workspace.batch
        let x = Self.toNCHW(workspace.conv1[bi].out.pointer, channels: b.conv1.outChannels, batch: n, resolution: resolution)
        let img = Self.toNCHW(workspace.rgb[bi].img.pointer, channels: imgChannels, batch: n, resolution: resolution)
        return (x, img)
    }

    /// Gradients of sum(img * gradImage) for the last forward on `workspace`.
    public func backward(
        _ gradImage: Tensor, workspace ws_: SynthesisWorkspace, ws: Tensor, parameterGradients: Bool = false
    ) -> SynthesisGradients {
        precondition(ws_.forwardDone, "backward needs a forward on the same workspace first")
        let n = ws_.batch
        precondition(gradImage.shape == [n, imgChannels, imgResolution, imgResolution])
        ws_.gWs.zero()
        ws_.gConstInput.zero()
        for st in ws_.conv1 { st.gOut.zero() }
        for st in ws_.conv0 { st?.gOut.zero() }
        for g in ws_.noiseGradients { g.zero() }
        if parameterGradients {
            if ws_.parameterGradients.isEmpty { allocateParameterGradients(ws_) }
            for (_, g) in ws_.parameterGradients { g.zero() }
        }
        let last = blocks.count - 1
        gradImage.withUnsafeBufferPointer { g in
            Self.fromNCHW(g.baseAddress!, channels: imgChannels, batch: n, resolution: imgResolution, into: ws_.rgb[last].gImg.pointer)
        }
        ws.withUnsafeBufferPointer { wp in
            let wsBase = wp.baseAddress!
            var layerIndex = convLayers.count - 1
            for bi in stride(from: last, through: 0, by: -1) {
                let block = blocks[bi]
                let rs = ws_.rgb[bi]
                if bi > 0 {
                    let half = block.resolution / 2
                    let axis = UpFirDnAxis(up: 2, pad0: 2, pad1: 1, taps: block.imageUpTaps)
                    upFirDn2dBackward(
                        rs.gImg.pointer, planes: imgChannels * n, height: half, width: half, axis: axis,
                        into: ws_.rgb[bi - 1].gImg.pointer, accumulate: false, scratch: ws_.firScratch.pointer)
                }
                let st1 = ws_.conv1[bi]
                rgbBackward(block.torgb, rs, input: st1.out.pointer, gInput: st1.gOut.pointer, ws: wsBase, workspace: ws_, params: parameterGradients)
                let conv1Input = ws_.conv0[bi]?.out.pointer ?? ws_.constInput.pointer
                let conv1GInput = ws_.conv0[bi]?.gOut.pointer ?? ws_.gConstInput.pointer
                convBackward(block.conv1, st1, input: conv1Input, gInput: conv1GInput, ws: wsBase, workspace: ws_, layerIndex: layerIndex, params: parameterGradients)
                layerIndex -= 1
                if let l = block.conv0, let st0 = ws_.conv0[bi] {
                    let prev = ws_.conv1[bi - 1]
                    convBackward(l, st0, input: prev.out.pointer, gInput: prev.gOut.pointer, ws: wsBase, workspace: ws_, layerIndex: layerIndex, params: parameterGradients)
                    layerIndex -= 1
                }
            }
        }
        var params: [String: Tensor] = [:]
        if parameterGradients {
            // The constant's gradient sums over the batch it was repeated to.
            let c = blocks[0].conv1.inChannels
            let gConst = ws_.parameterGradients["synthesis.b4.const"]!
            for ch in 0..<c { for s in 0..<n { for p in 0..<16 { gConst.pointer[ch * 16 + p] += ws_.gConstInput.pointer[(ch * n + s) * 16 + p] } } }
            for (name, shape) in parameterShapes() {
                let b = ws_.parameterGradients[name]!
                params[name] = Tensor(shape: shape) { $0.baseAddress!.update(from: b.pointer, count: b.count) }
            }
        }
        let gws = Tensor(shape: [n, numWs, wDim]) { $0.baseAddress!.update(from: ws_.gWs.pointer, count: ws_.gWs.count) }
        var gnoise: [Tensor] = []
        for (i, l) in convLayers.enumerated() where i < ws_.noiseGradients.count {
            let st = convState(i, ws_)
            let b = ws_.noiseGradients[i]
            if !st.hasNoise { continue }
            let shape = st.noisePerSample ? [n, l.resolution, l.resolution] : (b.count == l.resolution * l.resolution && !st.noiseShapeExplicit ? [l.resolution, l.resolution] : [1, l.resolution, l.resolution])
            gnoise.append(Tensor(shape: shape) { $0.baseAddress!.update(from: b.pointer, count: b.count) })
        }
        return SynthesisGradients(ws: gws, noise: gnoise, parameters: params)
    }

    // MARK: - Layers

    private func convState(_ index: Int, _ ws_: SynthesisWorkspace) -> SynthesisWorkspace.ConvState {
        var i = 0
        for bi in blocks.indices {
            if let st0 = ws_.conv0[bi] { if i == index { return st0 }; i += 1 }
            if i == index { return ws_.conv1[bi] }
            i += 1
        }
        fatalError("no conv layer \(index)")
    }

    private func prepareNoise(_ l: SynthesisLayer, _ st: SynthesisWorkspace.ConvState, _ mode: NoiseMode, layerIndex: Int, batch n: Int) {
        let hw = l.resolution * l.resolution
        st.noiseShapeExplicit = false
        switch mode {
        case .none:
            st.hasNoise = false
        case .const:
            st.hasNoise = true
            st.noisePerSample = false
            l.noiseConst.withUnsafeBufferPointer { st.noise.pointer.update(from: $0.baseAddress!, count: hw) }
        case .random(let seed):
            st.hasNoise = true
            st.noisePerSample = true
            var g = GaussianNoise(seed: seed &+ UInt64(layerIndex) &* 0x9E37_79B9_7F4A_7C15)
            g.fill(st.noise.pointer, count: n * hw)
        case .explicit(let maps):
            precondition(layerIndex < maps.count, "explicit noise needs one map per conv layer")
            let m = maps[layerIndex]
            precondition(m.shape == [1, l.resolution, l.resolution] || m.shape == [n, l.resolution, l.resolution],
                         "noise for \(l.name) must be [1 or \(n), \(l.resolution), \(l.resolution)], got \(m.shape)")
            st.hasNoise = true
            st.noiseShapeExplicit = true
            st.noisePerSample = m.shape[0] == n && n > 1
            m.withUnsafeBufferPointer { st.noise.pointer.update(from: $0.baseAddress!, count: m.count) }
        }
    }

    private func convForward(
        _ l: SynthesisLayer, _ st: SynthesisWorkspace.ConvState, input x: UnsafePointer<Float>,
        ws: UnsafePointer<Float>, workspace ws_: SynthesisWorkspace
    ) {
        let n = ws_.batch
        let ci = l.inChannels
        let co = l.outChannels
        let hin = l.inputResolution
        let hwIn = hin * hin
        let hw = l.resolution * l.resolution
        l.affine.forward(ws + l.wIndex * wDim, rows: n, ldx: numWs * wDim, into: st.s.pointer, ldy: ci)
        let s = st.s.pointer
        let wsq = st.weightSquares.pointer
        l.weight.withUnsafeBufferPointer { wb in
            let w = wb.baseAddress!
            for o in 0..<co {
                for i in 0..<ci {
                    var acc: Float = 0
                    for k in 0..<9 { acc += w[(o * ci + i) * 9 + k] * w[(o * ci + i) * 9 + k] }
                    wsq[o * ci + i] = acc
                }
            }
            for smp in 0..<n {
                for o in 0..<co {
                    var acc: Float = 0
                    for i in 0..<ci { acc += wsq[o * ci + i] * s[smp * ci + i] * s[smp * ci + i] }
                    st.d.pointer[smp * co + o] = 1 / (acc + 1e-8).squareRoot()
                }
            }
            // xs = x * s, per (input channel, sample) plane.
            for i in 0..<ci {
                for smp in 0..<n {
                    let scale = s[smp * ci + i]
                    let src = x + (i * n + smp) * hwIn
                    let dst = st.xs.pointer + (i * n + smp) * hwIn
                    for p in 0..<hwIn { dst[p] = src[p] * scale }
                }
            }
            if l.up {
                let wt = st.transposedWeight!.pointer
                for o in 0..<co { for i in 0..<ci { for k in 0..<9 { wt[(o * 9 + k) * ci + i] = w[(o * ci + i) * 9 + k] } } }
                let t = 2 * hin + 1
                ws_.upsampled.pointer.update(repeating: 0, count: co * n * t * t)
                var n0 = 0
                while n0 < n {
                    let nc = min(st.chunk, n - n0)
                    BLAS.sgemm(
                        m: co * 9, n: nc * hwIn, k: ci, a: wt, lda: ci, b: st.xs.pointer + n0 * hwIn, ldb: n * hwIn,
                        c: ws_.cols.pointer, ldc: nc * hwIn)
                    col2imTransposed3x3Accumulate(
                        ws_.cols.pointer, channels: co, batch: n, height: hin, width: hin, samples: n0, count: nc,
                        into: ws_.upsampled.pointer)
                    n0 += nc
                }
                let axis = UpFirDnAxis(up: 1, pad0: 1, pad1: 1, taps: l.upTaps)
                upFirDn2d(
                    ws_.upsampled.pointer, planes: co * n, height: t, width: t, axis: axis, into: st.y0.pointer,
                    scratch: ws_.firScratch.pointer)
            } else {
                var n0 = 0
                while n0 < n {
                    let nc = min(st.chunk, n - n0)
                    im2col3x3(st.xs.pointer, channels: ci, batch: n, height: hin, width: hin, samples: n0, count: nc, into: ws_.cols.pointer)
                    BLAS.sgemm(
                        m: co, n: nc * hw, k: ci * 9, a: w, lda: ci * 9, b: ws_.cols.pointer, ldb: nc * hw,
                        c: st.y0.pointer + n0 * hw, ldc: n * hw)
                    n0 += nc
                }
            }
        }
        // Demodulate, add noise and bias, lrelu * sqrt(2), clamp — in NVIDIA's order.
        let strength = l.noiseStrength[flat: 0]
        let clamp = l.convClamp ?? .infinity
        let gain = Float(2).squareRoot()
        l.bias.withUnsafeBufferPointer { bias in
            for o in 0..<co {
                for smp in 0..<n {
                    let dv = st.d.pointer[smp * co + o]
                    let base = (o * n + smp) * hw
                    let y0 = st.y0.pointer + base
                    let out = st.out.pointer + base
                    let noise = st.noise.pointer + (st.noisePerSample ? smp * hw : 0)
                    let b = bias[o]
                    for p in 0..<hw {
                        var v = y0[p] * dv
                        if st.hasNoise { v += noise[p] * strength }
                        v += b
                        v = (v > 0 ? v : v * 0.2) * gain
                        out[p] = min(max(v, -clamp), clamp)
                    }
                }
            }
        }
    }

    private func convBackward(
        _ l: SynthesisLayer, _ st: SynthesisWorkspace.ConvState, input x: UnsafePointer<Float>,
        gInput gx: UnsafeMutablePointer<Float>, ws: UnsafePointer<Float>, workspace ws_: SynthesisWorkspace,
        layerIndex: Int, params: Bool
    ) {
        let n = ws_.batch
        let ci = l.inChannels
        let co = l.outChannels
        let hin = l.inputResolution
        let hwIn = hin * hin
        let hw = l.resolution * l.resolution
        let strength = l.noiseStrength[flat: 0]
        let clamp = l.convClamp ?? .infinity
        let gain = Float(2).squareRoot()
        let g = st.gOut.pointer
        let pg = params ? ws_.parameterGradients : [:]
        let gBias = pg[l.name + ".bias"]?.pointer
        let gWeight = pg[l.name + ".weight"]?.pointer
        var gStrength: Float = 0
        let gNoise = st.hasNoise ? noiseGradient(ws_, layerIndex: layerIndex, count: st.noisePerSample ? n * hw : hw) : nil
        // Through clamp and lrelu; then bias, noise and demodulation gradients. gOut becomes d/d y0.
        for o in 0..<co {
            for smp in 0..<n {
                let base = (o * n + smp) * hw
                let out = st.out.pointer + base
                let gz = g + base
                let y0 = st.y0.pointer + base
                let noise = st.noise.pointer + (st.noisePerSample ? smp * hw : 0)
                let gn = gNoise.map { $0 + (st.noisePerSample ? smp * hw : 0) }
                var sumG: Float = 0
                var sumGY: Float = 0
                var sumGN: Float = 0
                let dv = st.d.pointer[smp * co + o]
                for p in 0..<hw {
                    let v = out[p]
                    var gv = (v >= clamp || v <= -clamp) ? 0 : gz[p]
                    gv *= v > 0 ? gain : gain * 0.2
                    sumG += gv
                    sumGY += gv * y0[p]
                    if st.hasNoise { sumGN += gv * noise[p]; gn![p] += gv * strength }
                    gz[p] = gv * dv
                }
                gBias?[o] += sumG
                gStrength += sumGN
                // d = (S + 1e-8)^-1/2 so dd/dS = -d^3 / 2.
                st.gS.pointer[smp * co + o] = sumGY * (-0.5 * dv * dv * dv)
            }
        }
        for site in ws_.leakyReLUSlopeFlips where site.layer == layerIndex {
            // Redo one element with the other slope: move everything the loop above summed from it.
            let base = (site.channel * n + site.sample) * hw
            let v = st.out.pointer[base + site.pixel]
            let dv = st.d.pointer[site.sample * co + site.channel]
            // g holds gv * d with gv the gradient through the old slope; the other slope scales gv
            // by 0.2 (was positive) or 5 (was negative).
            let gv = g[base + site.pixel] / dv
            let delta = gv * (v > 0 ? -0.8 : 4)
            g[base + site.pixel] += delta * dv
            gBias?[site.channel] += delta
            st.gS.pointer[site.sample * co + site.channel] += delta * st.y0.pointer[base + site.pixel] * (-0.5 * dv * dv * dv)
            if st.hasNoise {
                let noiseIndex = (st.noisePerSample ? site.sample * hw : 0) + site.pixel
                gStrength += delta * st.noise.pointer[noiseIndex]
                gNoise![noiseIndex] += delta * strength
            }
        }
        if params, st.hasNoise { pg[l.name + ".noise_strength"]!.pointer[0] += gStrength }
        let gxs = ws_.gxs.pointer
        l.weight.withUnsafeBufferPointer { wb in
            let w = wb.baseAddress!
            if l.up {
                let t = 2 * hin + 1
                let axis = UpFirDnAxis(up: 1, pad0: 1, pad1: 1, taps: l.upTaps)
                upFirDn2dBackward(g, planes: co * n, height: t, width: t, axis: axis, into: ws_.upsampled.pointer, accumulate: false, scratch: ws_.firScratch.pointer)
                let wt = st.transposedWeight!.pointer
                // gWt [(o, k), i] accumulates in gcols' head when weight gradients are wanted.
                let gWt = ws_.gcols.pointer
                if params { gWt.update(repeating: 0, count: co * 9 * ci) }
                var n0 = 0
                while n0 < n {
                    let nc = min(st.chunk, n - n0)
                    im2colTransposed3x3(ws_.upsampled.pointer, channels: co, batch: n, height: hin, width: hin, samples: n0, count: nc, into: ws_.cols.pointer)
                    BLAS.sgemm(
                        transA: true, m: ci, n: nc * hwIn, k: co * 9, a: wt, lda: ci, b: ws_.cols.pointer, ldb: nc * hwIn,
                        c: gxs + n0 * hwIn, ldc: n * hwIn)
                    if params {
                        BLAS.sgemm(
                            transB: true, m: co * 9, n: ci, k: nc * hwIn, a: ws_.cols.pointer, lda: nc * hwIn,
                            b: st.xs.pointer + n0 * hwIn, ldb: n * hwIn, beta: 1, c: gWt, ldc: ci)
                    }
                    n0 += nc
                }
                if let gW = gWeight {
                    for o in 0..<co { for i in 0..<ci { for k in 0..<9 { gW[(o * ci + i) * 9 + k] += gWt[(o * 9 + k) * ci + i] } } }
                }
            } else {
                gxs.update(repeating: 0, count: ci * n * hwIn)
                var n0 = 0
                while n0 < n {
                    let nc = min(st.chunk, n - n0)
                    if let gW = gWeight {
                        im2col3x3(st.xs.pointer, channels: ci, batch: n, height: hin, width: hin, samples: n0, count: nc, into: ws_.cols.pointer)
                        BLAS.sgemm(
                            transB: true, m: co, n: ci * 9, k: nc * hw, a: g + n0 * hw, lda: n * hw, b: ws_.cols.pointer,
                            ldb: nc * hw, beta: 1, c: gW, ldc: ci * 9)
                    }
                    BLAS.sgemm(
                        transA: true, m: ci * 9, n: nc * hw, k: co, a: w, lda: ci * 9, b: g + n0 * hw, ldb: n * hw,
                        c: ws_.gcols.pointer, ldc: nc * hw)
                    col2im3x3Accumulate(ws_.gcols.pointer, channels: ci, batch: n, height: hin, width: hin, samples: n0, count: nc, into: gxs)
                    n0 += nc
                }
            }
            // Styles: through the scaling of x and through the demodulation.
            let s = st.s.pointer
            let gs = st.gs.pointer
            let wsq = st.weightSquares.pointer
            for i in 0..<ci {
                for smp in 0..<n {
                    let scale = s[smp * ci + i]
                    let base = (i * n + smp) * hwIn
                    var acc: Float = 0
                    for p in 0..<hwIn {
                        acc += gxs[base + p] * x[base + p]
                        gx[base + p] += gxs[base + p] * scale
                    }
                    gs[smp * ci + i] = acc
                }
            }
            for smp in 0..<n {
                for i in 0..<ci {
                    var acc: Float = 0
                    for o in 0..<co { acc += st.gS.pointer[smp * co + o] * wsq[o * ci + i] }
                    gs[smp * ci + i] += 2 * s[smp * ci + i] * acc
                }
            }
            if let gW = gWeight {
                for o in 0..<co {
                    for i in 0..<ci {
                        var acc: Float = 0
                        for smp in 0..<n { acc += st.gS.pointer[smp * co + o] * s[smp * ci + i] * s[smp * ci + i] }
                        for k in 0..<9 { gW[(o * ci + i) * 9 + k] += 2 * w[(o * ci + i) * 9 + k] * acc }
                    }
                }
            }
        }
        l.affine.backward(
            x: ws + l.wIndex * wDim, y: st.s.pointer, gy: st.gs.pointer, rows: n, ldx: numWs * wDim, ldy: ci,
            gx: ws_.gWs.pointer + l.wIndex * wDim, ldgx: numWs * wDim,
            gWeight: pg[l.name + ".affine.weight"]?.pointer, gBias: pg[l.name + ".affine.bias"]?.pointer)
    }

    private func rgbForward(_ l: ToRGBLayer, _ rs: SynthesisWorkspace.RGBState, input x: UnsafePointer<Float>, ws: UnsafePointer<Float>, batch n: Int) {
        let ci = l.inChannels
        let hw = l.resolution * l.resolution
        l.affine.forward(ws + l.wIndex * wDim, rows: n, ldx: numWs * wDim, into: rs.s.pointer, ldy: ci)
        let s = rs.s.pointer
        for j in 0..<(n * ci) { s[j] *= l.styleGain }
        for i in 0..<ci {
            for smp in 0..<n {
                let scale = s[smp * ci + i]
                let base = (i * n + smp) * hw
                for p in 0..<hw { rs.xs.pointer[base + p] = x[base + p] * scale }
            }
        }
        l.weight.withUnsafeBufferPointer { w in
            BLAS.sgemm(m: l.imgChannels, n: n * hw, k: ci, a: w.baseAddress!, lda: ci, b: rs.xs.pointer, ldb: n * hw, c: rs.y.pointer, ldc: n * hw)
        }
        let clamp = l.convClamp ?? .infinity
        l.bias.withUnsafeBufferPointer { bias in
            for c in 0..<l.imgChannels {
                let y = rs.y.pointer + c * n * hw
                for p in 0..<(n * hw) { y[p] = min(max(y[p] + bias[c], -clamp), clamp) }
            }
        }
    }

    private func rgbBackward(
        _ l: ToRGBLayer, _ rs: SynthesisWorkspace.RGBState, input x: UnsafePointer<Float>, gInput gx: UnsafeMutablePointer<Float>,
        ws: UnsafePointer<Float>, workspace ws_: SynthesisWorkspace, params: Bool
    ) {
        let n = ws_.batch
        let ci = l.inChannels
        let hw = l.resolution * l.resolution
        let clamp = l.convClamp ?? .infinity
        let pg = params ? ws_.parameterGradients : [:]
        // gImg also flowed to the previous block already, so masking it in place is safe now.
        let gy = rs.gImg.pointer
        for j in 0..<(l.imgChannels * n * hw) {
            let v = rs.y.pointer[j]
            if v >= clamp || v <= -clamp { gy[j] = 0 }
        }
        if let gB = pg[l.name + ".bias"]?.pointer {
            for c in 0..<l.imgChannels { for p in 0..<(n * hw) { gB[c] += gy[c * n * hw + p] } }
        }
        l.weight.withUnsafeBufferPointer { wb in
            let w = wb.baseAddress!
            if let gW = pg[l.name + ".weight"]?.pointer {
                BLAS.sgemm(transB: true, m: l.imgChannels, n: ci, k: n * hw, a: gy, lda: n * hw, b: rs.xs.pointer, ldb: n * hw, beta: 1, c: gW, ldc: ci)
            }
            BLAS.sgemm(transA: true, m: ci, n: n * hw, k: l.imgChannels, a: w, lda: ci, b: gy, ldb: n * hw, c: ws_.gxs.pointer, ldc: n * hw)
        }
        let gxs = ws_.gxs.pointer
        let s = rs.s.pointer
        for i in 0..<ci {
            for smp in 0..<n {
                let scale = s[smp * ci + i]
                let base = (i * n + smp) * hw
                var acc: Float = 0
                for p in 0..<hw {
                    acc += gxs[base + p] * x[base + p]
                    gx[base + p] += gxs[base + p] * scale
                }
                rs.gs.pointer[smp * ci + i] = acc * l.styleGain
            }
        }
        l.affine.backward(
            x: ws + l.wIndex * wDim, y: rs.s.pointer, gy: rs.gs.pointer, rows: n, ldx: numWs * wDim, ldy: ci,
            gx: ws_.gWs.pointer + l.wIndex * wDim, ldgx: numWs * wDim,
            gWeight: pg[l.name + ".affine.weight"]?.pointer, gBias: pg[l.name + ".affine.bias"]?.pointer)
    }

    /// The activations of the last forward with |output| < `threshold`, over every conv layer.
    public func activationsNearZero(threshold: Float, workspace ws_: SynthesisWorkspace) -> [ActivationSite] {
        var sites: [ActivationSite] = []
        for index in convLayers.indices {
            let st = convState(index, ws_)
            let l = convLayers[index]
            let hw = l.resolution * l.resolution
            for o in 0..<l.outChannels {
                for smp in 0..<ws_.batch {
                    for p in 0..<hw where abs(st.out.pointer[(o * ws_.batch + smp) * hw + p]) < threshold {
                        sites.append(ActivationSite(layer: index, channel: o, sample: smp, pixel: p))
                    }
                }
            }
        }
        return sites
    }

    // MARK: - Gradient storage and layout

    private func noiseGradient(_ ws_: SynthesisWorkspace, layerIndex: Int, count: Int) -> UnsafeMutablePointer<Float> {
        let layers = convLayers.count
        if ws_.noiseGradients.count != layers || ws_.noiseGradients[layerIndex].count != count {
            if ws_.noiseGradients.count != layers {
                ws_.noiseGradients = convLayers.map { Buffer(count: $0.resolution * $0.resolution) }
            }
            ws_.noiseGradients[layerIndex] = Buffer(count: count)
        }
        return ws_.noiseGradients[layerIndex].pointer
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

    private func allocateParameterGradients(_ ws_: SynthesisWorkspace) {
        for (name, shape) in parameterShapes() { ws_.parameterGradients[name] = Buffer(count: shape.reduce(1, *)) }
    }

    /// [C, N, R, R] (workspace layout) -> Tensor [N, C, R, R].
    static func toNCHW(_ src: UnsafePointer<Float>, channels c: Int, batch n: Int, resolution r: Int) -> Tensor {
        let hw = r * r
        return Tensor(shape: [n, c, r, r]) { dst in
            for ch in 0..<c { for s in 0..<n { (dst.baseAddress! + (s * c + ch) * hw).update(from: src + (ch * n + s) * hw, count: hw) } }
        }
    }

    static func fromNCHW(_ src: UnsafePointer<Float>, channels c: Int, batch n: Int, resolution r: Int, into dst: UnsafeMutablePointer<Float>) {
        let hw = r * r
        for ch in 0..<c { for s in 0..<n { (dst + (ch * n + s) * hw).update(from: src + (s * c + ch) * hw, count: hw) } }
    }
}
