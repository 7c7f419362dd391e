// The modulated 3x3 conv layer's backward, the forward (SynthesisNetwork+ConvForward.swift) in
// reverse: through the epilogue (clamp, lrelu, bias, noise, demodulation), then the convolution
// (adjoint of the transposed conv + FIR for `up` layers; the flipped kernel, by Winograd or
// im2col + GEMM, otherwise), then the styles and the affine. Accumulates into the workspace's
// gradients: d/d x, d/d ws, d/d noise and, when asked for, d/d the layer's parameters.
//
// Dimension letters: N batch, I input and O output channels, Hin x Hin the input grid, R x R the
// output grid. Activations and their gradients are [C, N, H, W]; gS [N, O], gs [N, I].

extension SynthesisNetwork {
    /// gx [I, N, Hin, Hin] += d/d x of sum(out * st.gOut), with the styles', noise's and (with
    /// `params`) parameters' gradients. Overwrites st.gOut with d/d y0.
    func convBackward(
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
        let groups = st.outChannelPieces
        var strengthPartials = [Double](repeating: 0, count: groups)
        nonisolated(unsafe) let outBase = st.out.pointer
        nonisolated(unsafe) let y0Base = st.y0.pointer
        nonisolated(unsafe) let noiseBase = st.noise.pointer
        nonisolated(unsafe) let d = st.d.pointer
        nonisolated(unsafe) let gS = st.gS.pointer
        // Through clamp and lrelu; bias, noise and demodulation gradients; gOut becomes d/d y0.
        // Sums over channels (noise, its strength) go to partials per fixed group of channels, added
        // in group order: workers never share a cell, and the sums never follow the worker count.
        strengthPartials.withUnsafeMutableBufferPointer { sp in
            nonisolated(unsafe) let sp = sp.baseAddress!
            Parallel.forEachPiece(co, pieces: groups, maxParts: parts) { _, group, range in
                let gn = partials + group * partialStride
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
                sp[group] = gStrength
            }
        }
        let gStrength = Float(strengthPartials.reduce(0, +))
        if let gNoise {
            // Each pixel adds the groups' partials in group order, whoever adds it.
            let used = min(groups, co)
            Parallel.split(noiseCount, maxParts: noiseCount >= 1 << 14 ? parts : 1) { _, pixels in
                for group in 0..<used {
                    let gn = partials + group * partialStride
                    for p in pixels { gNoise[p] += gn[p] * strength }
                }
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
                    let rowLength = nc * hwIn
                    if rowLength >= 2 * ci {
                        // The tap planes are the bigger operand: fixed pieces of the columns.
                        Parallel.forEachPiece(
                            rowLength, pieces: SynthesisWorkspace.columnPieces(rowLength, quantum: st.phasePieces), granule: SynthesisWorkspace.columnGranule,
                            maxParts: parts
                        ) { _, _, columns in
                            BLAS.sgemm(
                                transA: true, m: ci, n: columns.count, k: co * 9, a: wt, lda: ci, b: cols + columns.lowerBound, ldb: rowLength,
                                c: gxs + start * hwIn + columns.lowerBound, ldc: n * hwIn)
                        }
                    } else {
                        Parallel.forEachPiece(ci, pieces: st.inChannelPieces, maxParts: parts) { _, _, range in
                            BLAS.sgemm(
                                transA: true, m: range.count, n: rowLength, k: co * 9, a: wt + range.lowerBound, lda: ci, b: cols, ldb: rowLength,
                                c: gxs + range.lowerBound * n * hwIn + start * hwIn, ldc: n * hwIn)
                        }
                    }
                    if gWeight != nil {
                        Parallel.forEachPiece(co * 9, pieces: st.outChannelPieces, granule: 9, maxParts: parts) { _, _, range in
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
                if let gW = gWeight, st.winograd {
                    // In the transformed domain, a quarter of the multiply-adds of im2col + GEMM below.
                    winogradWeightGradient(l, st, input: x, gOut: g, parts: parts, workspace: workspace, into: gW)
                } else if let gW = gWeight {
                    nonisolated(unsafe) let gW = gW
                    nonisolated(unsafe) let s = st.s.pointer
                    var n0 = 0
                    while n0 < n {
                        let nc = min(st.chunk, n - n0)
                        let start = n0
                        // The chunk's image rows, split; each part fills its columns of every cols row.
                        Parallel.split(nc * hin, maxParts: parts) { _, range in
                            im2col3x3Rows(
                                x, channels: ci, batch: n, height: hin, width: hin,
                                rows: (start * hin + range.lowerBound)..<(start * hin + range.upperBound), scales: s,
                                into: cols + range.lowerBound * hin, ldCols: nc * hw)
                        }
                        Parallel.forEachPiece(co, pieces: st.outChannelPieces, maxParts: parts) { _, _, range in
                            BLAS.sgemm(
                                transB: true, m: range.count, n: ci * 9, k: nc * hw, a: g + range.lowerBound * n * hw + start * hw, lda: n * hw,
                                b: cols, ldb: nc * hw, beta: 1, c: gW + range.lowerBound * ci * 9, ldc: ci * 9)
                        }
                        n0 += nc
                    }
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
                    let partStride = workspace.colsPartStride
                    Parallel.forEachPiece(n * hin, pieces: st.backwardRowPieces, maxParts: parts) { part, _, rows in
                        let c = cols + part * partStride
                        let columns = rows.count * hin
                        im2col3x3Rows(g, channels: co, batch: n, height: hin, width: hin, rows: rows, scales: nil, into: c)
                        BLAS.sgemm(m: ci, n: columns, k: k, a: wf, lda: k, b: c, ldb: columns, c: gxs + rows.lowerBound * hin, ldc: n * hw)
                    }
                } else {
                    // Small grids: lower the gradient once per chunk, split the input channels.
                    var n0 = 0
                    while n0 < n {
                        let nc = min(st.chunk, n - n0)
                        let start = n0
                        im2col3x3Rows(g, channels: co, batch: n, height: hin, width: hin, rows: n0 * hin..<(n0 + nc) * hin, scales: nil, into: cols)
                        Parallel.forEachPiece(ci, pieces: st.inChannelPieces, maxParts: parts) { _, _, range in
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
}
