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
        return Self.toNCHW(workspace.rgb[blocks.count - 1].img.pointer, channels: imgChannels, batch: n, resolution: imgResolution)
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
            Self.fromNCHW(g.baseAddress!, channels: imgChannels, batch: n, resolution: imgResolution, into: workspace.rgb[last].gImg.pointer)
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

    // MARK: - Layers

    private func convState(_ index: Int, _ workspace: SynthesisWorkspace) -> SynthesisWorkspace.ConvState {
        var i = 0
        for bi in blocks.indices {
            if let st0 = workspace.conv0[bi] { if i == index { return st0 }; i += 1 }
            if i == index { return workspace.conv1[bi] }
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

    /// Workers for a phase of `flops` (2 x multiply-adds): see `SynthesisWorkspace.minimumFLOPsPerWorker`.
    private static func parts(flops: Double, _ workspace: SynthesisWorkspace) -> Int {
        let grain = workspace.minimumFLOPsPerWorker
        return grain <= 0 ? workspace.threads : max(1, min(workspace.threads, Int(min(flops / grain, Double(Int.max / 2)))))
    }

    private func convForward(
        _ l: SynthesisLayer, _ st: SynthesisWorkspace.ConvState, input x: UnsafePointer<Float>,
        ws: UnsafePointer<Float>, workspace: SynthesisWorkspace
    ) {
        let n = workspace.batch
        let ci = l.inChannels
        let co = l.outChannels
        let hin = l.inputResolution
        let hwIn = hin * hin
        let hw = l.resolution * l.resolution
        let parts = Self.parts(flops: 2 * Double(n * hwIn * ci * co * 9), workspace)
        l.affine.forward(ws + l.wIndex * wDim, rows: n, ldx: numWs * wDim, into: st.s.pointer, ldy: ci)
        let prepared = l.preparedWeights
        nonisolated(unsafe) let s = st.s.pointer
        nonisolated(unsafe) let d = st.d.pointer
        // Demodulation: d[n, o] = (sum_i wsq[o, i] s[n, i]^2 + 1e-8)^-1/2, as one small GEMM.
        nonisolated(unsafe) let s2 = st.gs.pointer  // free until the backward
        for j in 0..<(n * ci) { s2[j] = s[j] * s[j] }
        if n <= skinnyGEMMMaxRows {
            skinnyGEMMTransB(m: n, n: co, k: ci, a: s2, lda: ci, b: prepared.weightSquares.pointer, ldb: ci, c: d, ldc: co)
        } else {
            BLAS.sgemm(transB: true, m: n, n: co, k: ci, a: s2, lda: ci, b: prepared.weightSquares.pointer, ldb: ci, c: d, ldc: co)
        }
        for j in 0..<(n * co) { d[j] = 1 / (d[j] + 1e-8).squareRoot() }
        nonisolated(unsafe) let y0 = st.y0.pointer
        nonisolated(unsafe) let cols = workspace.cols.pointer
        l.bias.withUnsafeBufferPointer { biasBuffer in
            let epilogue = ConvEpilogue(l, st, bias: biasBuffer.baseAddress!, batch: n)
            if l.up {
                // xs = x * s, per (input channel, sample) plane: the transposed conv's GEMM operand.
                nonisolated(unsafe) let xs = st.xs.pointer
                Parallel.split(ci, maxParts: n * ci * hwIn >= 1 << 16 ? parts : 1) { _, range in
                    for i in range {
                        for smp in 0..<n {
                            let scale = s[smp * ci + i]
                            let src = x + (i * n + smp) * hwIn
                            let dst = xs + (i * n + smp) * hwIn
                            for p in 0..<hwIn { dst[p] = src[p] * scale }
                        }
                    }
                }
                nonisolated(unsafe) let wt = prepared.transposedWeight!.pointer
                nonisolated(unsafe) let scratch = workspace.firScratch.pointer
                let scratchStride = workspace.firScratchStride
                let fir = l.upTaps
                let chunk = st.chunk
                // Per output channel: the tap planes of the transposed conv (GEMM), then the fused
                // scatter + FIR, then the epilogue, while the plane is in cache.
                Parallel.split(co, maxParts: parts) { part, range in
                    let scratch = scratch + part * scratchStride
                    // The part's rows of cols [O * 9, chunk * H * W], placed for a full chunk: a
                    // shorter last chunk packs its rows closer, and must stay inside the part's own
                    // block while another part still reads its previous chunk.
                    let tapPlanes = cols + range.lowerBound * 9 * chunk * hwIn
                    var n0 = 0
                    while n0 < n {
                        let nc = min(chunk, n - n0)
                        let rowLength = nc * hwIn
                        BLAS.sgemm(
                            m: range.count * 9, n: rowLength, k: ci, a: wt + range.lowerBound * 9 * ci, lda: ci,
                            b: xs + n0 * hwIn, ldb: n * hwIn, c: tapPlanes, ldc: rowLength)
                        for o in range {
                            for j in 0..<nc {
                                transposedConv3x3UpFIR(
                                    tapPlanes + (o - range.lowerBound) * 9 * rowLength + j * hwIn, tapStride: rowLength, height: hin, width: hin, fir: fir,
                                    into: y0 + (o * n + n0 + j) * hw, scratch: scratch)
                                epilogue.apply(channel: o, sample: n0 + j, pixels: 0..<hw)
                            }
                        }
                        n0 += nc
                    }
                }
            } else {
                let k = ci * 9
                l.weight.withUnsafeBufferPointer { wb in
                    nonisolated(unsafe) let w = wb.baseAddress!
                    if st.winograd {
                        // Winograd F(4x4, 3x3), split by tile rows: every worker transforms,
                        // multiplies and finishes its own rows (all channels), like the row split below.
                        let transforms = l.winogradWeights
                        winogradConvolve(
                            x, inChannels: ci, scales: s, weights: transforms.weight.pointer, outChannels: co, layer: l, st,
                            parts: parts, into: y0, workspace: workspace
                        ) { rows in
                            // Image rows of the chunk (global over the batch), which may span samples.
                            var r = rows.lowerBound
                            while r < rows.upperBound {
                                let smp = r / hin
                                let end = min(rows.upperBound, (smp + 1) * hin)
                                for o in 0..<co { epilogue.apply(channel: o, sample: smp, pixels: (r - smp * hin) * hin..<(end - smp * hin) * hin) }
                                r = end
                            }
                        }
                    } else if n * hw >= co {
                        // Split by image rows (all channels each): every worker lowers, multiplies and
                        // finishes its own columns, and packs only its part of the column matrix.
                        let rowsPerChunk = st.rowsPerChunk
                        let partStride = workspace.colsPartStride
                        Parallel.split(n * hin, maxParts: parts) { part, range in
                            let c = cols + part * partStride
                            var r0 = range.lowerBound
                            while r0 < range.upperBound {
                                let r1 = min(range.upperBound, r0 + rowsPerChunk)
                                let columns = (r1 - r0) * hin
                                im2col3x3Rows(x, channels: ci, batch: n, height: hin, width: hin, rows: r0..<r1, scales: s, into: c)
                                BLAS.sgemm(m: co, n: columns, k: k, a: w, lda: k, b: c, ldb: columns, c: y0 + r0 * hin, ldc: n * hw)
                                // The rows r0 ..< r1 may span samples.
                                var r = r0
                                while r < r1 {
                                    let smp = r / hin
                                    let end = min(r1, (smp + 1) * hin)
                                    for o in 0..<co { epilogue.apply(channel: o, sample: smp, pixels: (r - smp * hin) * hin..<(end - smp * hin) * hin) }
                                    r = end
                                }
                                r0 = r1
                            }
                        }
                    } else {
                        // Small grids: the weight is the bigger operand, so split the output channels
                        // (each worker packs its part of the weight) over columns lowered once.
                        var n0 = 0
                        while n0 < n {
                            let nc = min(st.chunk, n - n0)
                            let start = n0
                            im2col3x3Rows(x, channels: ci, batch: n, height: hin, width: hin, rows: n0 * hin..<(n0 + nc) * hin, scales: s, into: cols)
                            Parallel.split(co, maxParts: parts) { _, range in
                                BLAS.sgemm(
                                    m: range.count, n: nc * hw, k: k, a: w + range.lowerBound * k, lda: k, b: cols, ldb: nc * hw,
                                    c: y0 + range.lowerBound * n * hw + start * hw, ldc: n * hw)
                                for o in range { for j in start..<(start + nc) { epilogue.apply(channel: o, sample: j, pixels: 0..<hw) } }
                            }
                            n0 += nc
                        }
                    }
                }
            }
        }
    }

    /// y [O, N, R, R] = the Winograd 3x3 correlation of x [I, N, R, R] (scaled by s [N, I] when given)
    /// with the transformed kernel u, for a plain layer's grid: split by tile rows over `parts`
    /// workers, each transforming, multiplying and finishing its own rows in chunks. `finish` gets
    /// each chunk's image rows (global over the batch) while they are in cache.
    private func winogradConvolve(
        _ x: UnsafePointer<Float>, inChannels ci: Int, scales s: UnsafePointer<Float>?, weights u: UnsafePointer<Float>, outChannels co: Int,
        layer l: SynthesisLayer, _ st: SynthesisWorkspace.ConvState, parts: Int, into y: UnsafeMutablePointer<Float>,
        workspace: SynthesisWorkspace, finish: ((Range<Int>) -> Void)?
    ) {
        let n = workspace.batch
        let r = l.resolution
        let rowsPerChunk = st.winogradRowsPerChunk
        nonisolated(unsafe) let (x, s, u, y) = (x, s, u, y)
        Parallel.split(n * r / winogradTileSize, maxParts: parts) { part, range in
            let v = workspace.winogradV.pointer + part * workspace.winogradStride
            let m = workspace.winogradM.pointer + part * workspace.winogradStride
            let pad = workspace.winogradPad.pointer + part * workspace.winogradPadStride
            var r0 = range.lowerBound
            while r0 < range.upperBound {
                let r1 = min(range.upperBound, r0 + rowsPerChunk)
                let tiles = WinogradTiles(batch: n, height: r, width: r, rows: r0..<r1)
                winogradConv3x3(x, inChannels: ci, scales: s, weights: u, outChannels: co, tiles: tiles, into: y, v: v, m: m, pad: pad)
                finish?(winogradTileSize * r0..<winogradTileSize * r1)
                r0 = r1
            }
        }
    }

    private func convBackward(
        _ l: SynthesisLayer, _ st: SynthesisWorkspace.ConvState, input x: UnsafePointer<Float>,
        gInput gx: UnsafeMutablePointer<Float>, ws: UnsafePointer<Float>, workspace: SynthesisWorkspace,
        layerIndex: Int, params: Bool
    ) {
        let n = workspace.batch
        let ci = l.inChannels
        let co = l.outChannels
        let hin = l.inputResolution
        let hwIn = hin * hin
        let hw = l.resolution * l.resolution
        let parts = Self.parts(flops: 2 * Double(n * hwIn * ci * co * 9), workspace)
        let prepared = l.preparedWeights
        let strength = l.noiseStrength[flat: 0]
        let clamp = l.convClamp ?? .infinity
        let gain = Float(2).squareRoot()
        nonisolated(unsafe) let g = st.gOut.pointer
        let pg = params ? workspace.parameterGradients : [:]
        nonisolated(unsafe) let gBias = pg[l.name + ".bias"]?.pointer
        nonisolated(unsafe) let gWeight = pg[l.name + ".weight"]?.pointer
        let hasNoise = st.hasNoise
        let perSample = st.noisePerSample
        let noiseCount = perSample ? n * hw : hw
        nonisolated(unsafe) let gNoise = hasNoise ? noiseGradient(workspace, layerIndex: layerIndex, count: noiseCount) : nil
        nonisolated(unsafe) let partials = workspace.noisePartials.pointer
        let partialStride = workspace.noisePartialStride
        var strengthPartials = [Double](repeating: 0, count: parts)
        nonisolated(unsafe) let outBase = st.out.pointer
        nonisolated(unsafe) let y0Base = st.y0.pointer
        nonisolated(unsafe) let noiseBase = st.noise.pointer
        nonisolated(unsafe) let d = st.d.pointer
        nonisolated(unsafe) let gS = st.gS.pointer
        // Through clamp and lrelu; bias, noise and demodulation gradients; gOut becomes d/d y0.
        // Sums over channels (noise) go to per-worker partials so workers never share a cell.
        strengthPartials.withUnsafeMutableBufferPointer { sp in
            nonisolated(unsafe) let sp = sp.baseAddress!
            Parallel.split(co, maxParts: parts) { part, range in
                let gn = partials + part * partialStride
                if hasNoise { gn.update(repeating: 0, count: noiseCount) }
                var gStrength: Double = 0
                for o in range {
                    var sumG: Double = 0
                    for smp in 0..<n {
                        let base = (o * n + smp) * hw
                        let out = outBase + base
                        let gz = g + base
                        let y0 = y0Base + base
                        let noise = noiseBase + (perSample ? smp * hw : 0)
                        let gnRow = gn + (perSample ? smp * hw : 0)
                        let dv = d[smp * co + o]
                        let sums = convEpilogueBackward(
                            out: out, gradient: gz, y0: y0, noise: hasNoise ? noise : nil, gNoise: hasNoise ? gnRow : nil,
                            count: hw, demod: dv, clamp: clamp, gain: gain)
                        let sumSample = sums.gradient
                        let sumGY = sums.gradientTimesY0
                        let sumGN = sums.gradientTimesNoise
                        sumG += sumSample
                        gStrength += sumGN
                        // d = (S + 1e-8)^-1/2 so dd/dS = -d^3 / 2.
                        gS[smp * co + o] = Float(sumGY) * (-0.5 * dv * dv * dv)
                    }
                    gBias?[o] += Float(sumG)
                }
                sp[part] = gStrength
            }
        }
        let gStrength = Float(strengthPartials.reduce(0, +))
        if let gNoise {
            for part in 0..<min(parts, co) {
                let gn = partials + part * partialStride
                for p in 0..<noiseCount { gNoise[p] += gn[p] * strength }
            }
        }
        if params, hasNoise { pg[l.name + ".noise_strength"]!.pointer[0] += gStrength }
        nonisolated(unsafe) let gxs = workspace.gxs.pointer
        nonisolated(unsafe) let xs = st.xs.pointer
        nonisolated(unsafe) let cols = workspace.cols.pointer
        nonisolated(unsafe) let gcols = workspace.gcols.pointer
        l.weight.withUnsafeBufferPointer { wb in
            nonisolated(unsafe) let w = wb.baseAddress!
            if l.up {
                let fir = l.upTaps
                nonisolated(unsafe) let scratch = workspace.firScratch.pointer
                let stride = workspace.firScratchStride
                nonisolated(unsafe) let wt = prepared.transposedWeight!.pointer
                // gWt [(o, k), i] accumulates in gcols when weight gradients are wanted.
                nonisolated(unsafe) let gWt = gcols
                if gWeight != nil { gWt.update(repeating: 0, count: co * 9 * ci) }
                var n0 = 0
                while n0 < n {
                    let nc = min(st.chunk, n - n0)
                    let start = n0
                    // The adjoint of the fused scatter + FIR: d/d the transposed conv's tap planes.
                    Parallel.split(co, maxParts: parts) { part, range in
                        let rowLength = nc * hwIn
                        for o in range {
                            for j in 0..<nc {
                                transposedConv3x3UpFIRBackward(
                                    g + (o * n + start + j) * hw, height: hin, width: hin, fir: fir,
                                    into: cols + o * 9 * rowLength + j * hwIn, tapStride: rowLength, scratch: scratch + part * stride)
                            }
                        }
                    }
                    Parallel.split(ci, maxParts: parts) { _, range in
                        BLAS.sgemm(
                            transA: true, m: range.count, n: nc * hwIn, k: co * 9, a: wt + range.lowerBound, lda: ci, b: cols, ldb: nc * hwIn,
                            c: gxs + range.lowerBound * n * hwIn + start * hwIn, ldc: n * hwIn)
                    }
                    if gWeight != nil {
                        Parallel.split(co * 9, granule: 9, maxParts: parts) { _, range in
                            BLAS.sgemm(
                                transB: true, m: range.count, n: ci, k: nc * hwIn, a: cols + range.lowerBound * nc * hwIn, lda: nc * hwIn,
                                b: xs + start * hwIn, ldb: n * hwIn, beta: 1, c: gWt + range.lowerBound * ci, ldc: ci)
                        }
                    }
                    n0 += nc
                }
                if let gW = gWeight {
                    for o in 0..<co { for i in 0..<ci { for k in 0..<9 { gW[(o * ci + i) * 9 + k] += gWt[(o * 9 + k) * ci + i] } } }
                }
            } else {
                var n0 = 0
                while n0 < n {
                    let nc = min(st.chunk, n - n0)
                    let start = n0
                    if let gW = gWeight {
                        nonisolated(unsafe) let gW = gW
                        nonisolated(unsafe) let s = st.s.pointer
                        // The chunk's image rows, split; each part fills its columns of every cols row.
                        Parallel.split(nc * hin, maxParts: parts) { _, range in
                            im2col3x3Rows(
                                x, channels: ci, batch: n, height: hin, width: hin,
                                rows: (start * hin + range.lowerBound)..<(start * hin + range.upperBound), scales: s,
                                into: cols + range.lowerBound * hin, ldCols: nc * hw)
                        }
                        Parallel.split(co, maxParts: parts) { _, range in
                            BLAS.sgemm(
                                transB: true, m: range.count, n: ci * 9, k: nc * hw, a: g + range.lowerBound * n * hw + start * hw, lda: n * hw,
                                b: cols, ldb: nc * hw, beta: 1, c: gW + range.lowerBound * ci * 9, ldc: ci * 9)
                        }
                    }
                    n0 += nc
                }
                // d/d xs: the output gradient convolved with the flipped, transposed weight, lowered and
                // multiplied like the forward (no col2im scatter, no zeroing).
                nonisolated(unsafe) let wf = prepared.flippedWeight!.pointer
                let k = co * 9
                if st.winograd {
                    let transforms = l.winogradWeights
                    winogradConvolve(
                        g, inChannels: co, scales: nil, weights: transforms.flippedWeight.pointer, outChannels: ci, layer: l, st,
                        parts: parts, into: gxs, workspace: workspace, finish: nil)
                } else if n * hw >= ci {
                    let rowsPerChunk = st.backwardRowsPerChunk
                    let partStride = workspace.colsPartStride
                    Parallel.split(n * hin, maxParts: parts) { part, range in
                        let c = cols + part * partStride
                        var r0 = range.lowerBound
                        while r0 < range.upperBound {
                            let r1 = min(range.upperBound, r0 + rowsPerChunk)
                            let columns = (r1 - r0) * hin
                            im2col3x3Rows(g, channels: co, batch: n, height: hin, width: hin, rows: r0..<r1, scales: nil, into: c)
                            BLAS.sgemm(m: ci, n: columns, k: k, a: wf, lda: k, b: c, ldb: columns, c: gxs + r0 * hin, ldc: n * hw)
                            r0 = r1
                        }
                    }
                } else {
                    // Small grids: lower the gradient once per chunk, split the input channels.
                    var n0 = 0
                    while n0 < n {
                        let nc = min(st.chunk, n - n0)
                        let start = n0
                        im2col3x3Rows(g, channels: co, batch: n, height: hin, width: hin, rows: n0 * hin..<(n0 + nc) * hin, scales: nil, into: cols)
                        Parallel.split(ci, maxParts: parts) { _, range in
                            BLAS.sgemm(
                                m: range.count, n: nc * hw, k: k, a: wf + range.lowerBound * k, lda: k, b: cols, ldb: nc * hw,
                                c: gxs + range.lowerBound * n * hw + start * hw, ldc: n * hw)
                        }
                        n0 += nc
                    }
                }
            }
            // Styles: through the scaling of x and through the demodulation.
            nonisolated(unsafe) let s = st.s.pointer
            nonisolated(unsafe) let gs = st.gs.pointer
            nonisolated(unsafe) let wsq = prepared.weightSquares.pointer
            nonisolated(unsafe) let gxOut = gx
            Parallel.split(ci, maxParts: parts) { _, range in
                for i in range {
                    for smp in 0..<n {
                        let scale = s[smp * ci + i]
                        let base = (i * n + smp) * hwIn
                        let acc = styleScaleBackward(gxs: gxs + base, x: x + base, gx: gxOut + base, scale: scale, count: hwIn)
                        var demod: Float = 0
                        for o in 0..<co { demod += gS[smp * co + o] * wsq[o * ci + i] }
                        gs[smp * ci + i] = acc + 2 * scale * demod
                    }
                }
            }
            if let gW = gWeight {
                nonisolated(unsafe) let gW = gW
                Parallel.split(co, maxParts: parts) { _, range in
                    for o in range {
                        for i in 0..<ci {
                            var acc: Float = 0
                            for smp in 0..<n { acc += gS[smp * co + o] * s[smp * ci + i] * s[smp * ci + i] }
                            for k in 0..<9 { gW[(o * ci + i) * 9 + k] += 2 * w[(o * ci + i) * 9 + k] * acc }
                        }
                    }
                }
            }
        }
        l.affine.backward(
            x: ws + l.wIndex * wDim, y: st.s.pointer, gy: st.gs.pointer, rows: n, ldx: numWs * wDim, ldy: ci,
            gx: workspace.gWs.pointer + l.wIndex * wDim, ldgx: numWs * wDim,
            gWeight: pg[l.name + ".affine.weight"]?.pointer, gBias: pg[l.name + ".affine.bias"]?.pointer)
    }

    private func rgbForward(_ l: ToRGBLayer, _ rs: SynthesisWorkspace.RGBState, input x: UnsafePointer<Float>, ws: UnsafePointer<Float>, workspace: SynthesisWorkspace) {
        let n = workspace.batch
        let ci = l.inChannels
        let hw = l.resolution * l.resolution
        let imgC = l.imgChannels
        l.affine.forward(ws + l.wIndex * wDim, rows: n, ldx: numWs * wDim, into: rs.s.pointer, ldy: ci)
        nonisolated(unsafe) let s = rs.s.pointer
        for j in 0..<(n * ci) { s[j] *= l.styleGain }
        // Few output rows: modulate the weight per sample (C x I floats) instead of the activations.
        nonisolated(unsafe) let wm = rs.modulatedWeight.pointer
        l.weight.withUnsafeBufferPointer { w in
            for smp in 0..<n { for c in 0..<imgC { for i in 0..<ci { wm[(smp * imgC + c) * ci + i] = w[c * ci + i] * s[smp * ci + i] } } }
        }
        let clamp = l.convClamp ?? .infinity
        nonisolated(unsafe) let y = rs.y.pointer
        l.bias.withUnsafeBufferPointer { bias in
            nonisolated(unsafe) let bias = bias.baseAddress!
            // Split the columns [N * R * R]; a part may span samples.
            Parallel.split(n * hw, maxParts: Self.parts(flops: 2 * Double(n * hw * ci * imgC), workspace)) { _, range in
                var p = range.lowerBound
                while p < range.upperBound {
                    let smp = p / hw
                    let end = min(range.upperBound, (smp + 1) * hw)
                    BLAS.sgemm(
                        m: imgC, n: end - p, k: ci, a: wm + smp * imgC * ci, lda: ci, b: x + p, ldb: n * hw,
                        c: y + p, ldc: n * hw)
                    p = end
                }
                for c in 0..<imgC {
                    let row = y + c * n * hw
                    for p in range { row[p] = min(max(row[p] + bias[c], -clamp), clamp) }
                }
            }
        }
    }

    private func rgbBackward(
        _ l: ToRGBLayer, _ rs: SynthesisWorkspace.RGBState, input x: UnsafePointer<Float>, gInput gx: UnsafeMutablePointer<Float>,
        ws: UnsafePointer<Float>, workspace: SynthesisWorkspace, params: Bool
    ) {
        let n = workspace.batch
        let ci = l.inChannels
        let hw = l.resolution * l.resolution
        let parts = workspace.threads
        let clamp = l.convClamp ?? .infinity
        let pg = params ? workspace.parameterGradients : [:]
        // gImg also flowed to the previous block already, so masking it in place is safe now.
        nonisolated(unsafe) let gy = rs.gImg.pointer
        for j in 0..<(l.imgChannels * n * hw) {
            let v = rs.y.pointer[j]
            if v >= clamp || v <= -clamp { gy[j] = 0 }
        }
        if let gB = pg[l.name + ".bias"]?.pointer {
            for c in 0..<l.imgChannels { for p in 0..<(n * hw) { gB[c] += gy[c * n * hw + p] } }
        }
        nonisolated(unsafe) let gxs = workspace.gxs.pointer
        let imgC = l.imgChannels
        l.weight.withUnsafeBufferPointer { wb in
            nonisolated(unsafe) let w = wb.baseAddress!
            if let gW = pg[l.name + ".weight"]?.pointer {
                let xs = rs.xs.pointer
                for i in 0..<ci {
                    for smp in 0..<n {
                        let scale = rs.s.pointer[smp * ci + i]
                        let base = (i * n + smp) * hw
                        for p in 0..<hw { xs[base + p] = x[base + p] * scale }
                    }
                }
                BLAS.sgemm(transB: true, m: imgC, n: ci, k: n * hw, a: gy, lda: n * hw, b: rs.xs.pointer, ldb: n * hw, beta: 1, c: gW, ldc: ci)
            }
            Parallel.split(ci, maxParts: parts) { _, range in
                BLAS.sgemm(
                    transA: true, m: range.count, n: n * hw, k: imgC, a: w + range.lowerBound, lda: ci, b: gy, ldb: n * hw,
                    c: gxs + range.lowerBound * n * hw, ldc: n * hw)
            }
        }
        nonisolated(unsafe) let s = rs.s.pointer
        nonisolated(unsafe) let gs = rs.gs.pointer
        nonisolated(unsafe) let gxOut = gx
        let styleGain = l.styleGain
        Parallel.split(ci, maxParts: parts) { _, range in
            for i in range {
                for smp in 0..<n {
                    let scale = s[smp * ci + i]
                    let base = (i * n + smp) * hw
                    let acc = styleScaleBackward(gxs: gxs + base, x: x + base, gx: gxOut + base, scale: scale, count: hw)
                    gs[smp * ci + i] = acc * styleGain
                }
            }
        }
        l.affine.backward(
            x: ws + l.wIndex * wDim, y: rs.s.pointer, gy: rs.gs.pointer, rows: n, ldx: numWs * wDim, ldy: ci,
            gx: workspace.gWs.pointer + l.wIndex * wDim, ldgx: numWs * wDim,
            gWeight: pg[l.name + ".affine.weight"]?.pointer, gBias: pg[l.name + ".affine.bias"]?.pointer)
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

    // MARK: - Gradient storage and layout

    private func noiseGradient(_ workspace: SynthesisWorkspace, layerIndex: Int, count: Int) -> UnsafeMutablePointer<Float> {
        let layers = convLayers.count
        if workspace.noiseGradients.count != layers || workspace.noiseGradients[layerIndex].count != count {
            if workspace.noiseGradients.count != layers {
                workspace.noiseGradients = convLayers.map { Buffer(count: $0.resolution * $0.resolution) }
            }
            workspace.noiseGradients[layerIndex] = Buffer(count: count)
        }
        return workspace.noiseGradients[layerIndex].pointer
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

    private func allocateParameterGradients(_ workspace: SynthesisWorkspace) {
        for (name, shape) in parameterShapes() { workspace.parameterGradients[name] = Buffer(count: shape.reduce(1, *)) }
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

/// A conv layer's output stage, in NVIDIA's order: demodulate, add noise and bias, lrelu * sqrt(2),
/// clamp. Reads y0 and writes out ([O, N, R, R] both) for one (channel, sample) run of pixels.
struct ConvEpilogue: @unchecked Sendable {
    let y0: UnsafePointer<Float>  // [O, N, R, R]
    let out: UnsafeMutablePointer<Float>  // [O, N, R, R]
    let d: UnsafePointer<Float>  // [N, O]
    let noise: UnsafePointer<Float>  // [N or 1, R, R]
    let bias: UnsafePointer<Float>  // [O], valid while the layer lives
    let strength: Float
    let clamp: Float
    let hasNoise: Bool
    let perSample: Bool
    let batch: Int
    let channels: Int
    let hw: Int

    init(_ l: SynthesisLayer, _ st: SynthesisWorkspace.ConvState, bias: UnsafePointer<Float>, batch n: Int) {
        y0 = UnsafePointer(st.y0.pointer)
        out = st.out.pointer
        d = UnsafePointer(st.d.pointer)
        noise = UnsafePointer(st.noise.pointer)
        self.bias = bias
        strength = l.noiseStrength[flat: 0]
        clamp = l.convClamp ?? .infinity
        hasNoise = st.hasNoise
        perSample = st.noisePerSample
        batch = n
        channels = l.outChannels
        hw = l.resolution * l.resolution
    }

    @inline(__always)
    func apply(channel o: Int, sample smp: Int, pixels: Range<Int>) {
        let gain = Float(2).squareRoot()
        let dv = d[smp * channels + o]
        let base = (o * batch + smp) * hw
        let yRow = y0 + base
        let outRow = out + base
        let b = bias[o]
        let clamp = clamp
        if hasNoise {
            let noiseRow = noise + (perSample ? smp * hw : 0)
            let strength = strength
            for p in pixels {
                var v = yRow[p] * dv + noiseRow[p] * strength + b
                v = (v > 0 ? v : v * 0.2) * gain
                outRow[p] = min(max(v, -clamp), clamp)
            }
        } else {
            for p in pixels {
                var v = yRow[p] * dv + b
                v = (v > 0 ? v : v * 0.2) * gain
                outRow[p] = min(max(v, -clamp), clamp)
            }
        }
    }
}
