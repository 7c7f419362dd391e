// The modulated 3x3 conv layer's forward (NVIDIA's `SynthesisLayer`): styles from the affine,
// demodulation, then the convolution, by one of three paths (2x transposed conv + FIR for `up`
// layers; Winograd F(4x4, 3x3); im2col + GEMM), each finishing its output through `ConvEpilogue`
// while it is in cache. Its backward is SynthesisNetwork+ConvBackward.swift.
//
// Dimension letters: N batch, I input and O output channels, Hin x Hin the input grid, R x R the
// output grid (R = 2 Hin for `up` layers, else Hin). Activations are [C, N, H, W]; styles s [N, I],
// demodulation d [N, O], noise [N or 1, R, R].

extension SynthesisNetwork {
    /// st.noise [N or 1, R, R] <- the layer's noise for `mode` (records its shape in `st`).
    func prepareNoise(_ l: SynthesisLayer, _ st: SynthesisWorkspace.ConvState, _ mode: NoiseMode, layerIndex: Int, batch n: Int) {
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
        if st.hasNoise, let offset = l.noiseOffset {
            precondition(offset.shape == [l.resolution, l.resolution], "\(l.name)'s noise offset must be [\(l.resolution), \(l.resolution)], got \(offset.shape)")
            let maps = st.noisePerSample ? n : 1
            offset.withUnsafeBufferPointer { o in
                for m in 0..<maps { for i in 0..<hw { st.noise.pointer[m * hw + i] += o[i] } }
            }
        }
    }

    /// Workers for a phase of `flops` (2 x multiply-adds): see `SynthesisWorkspace.minimumFLOPsPerWorker`.
    static func parts(flops: Double, _ workspace: SynthesisWorkspace) -> Int {
        let grain = workspace.minimumFLOPsPerWorker
        return grain <= 0 ? workspace.threads : max(1, min(workspace.threads, Int(min(flops / grain, Double(Int.max / 2)))))
    }

    /// st.out [O, N, R, R] = the layer applied to x [I, N, Hin, Hin] with the styles of ws [N, num_ws, w_dim].
    func convForward(
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
                if st.upColumnSplit {
                    // Large grids: the activations are the bigger operand, so cut the columns into
                    // fixed pieces (each packs the small weight again), then scatter + FIR and the
                    // epilogue per output channel once every tap plane is in.
                    var n0 = 0
                    while n0 < n {
                        let nc = min(chunk, n - n0)
                        let start = n0
                        let rowLength = nc * hwIn
                        Parallel.forEachPiece(
                            rowLength, pieces: SynthesisWorkspace.columnPieces(rowLength, quantum: st.phasePieces), granule: SynthesisWorkspace.columnGranule,
                            maxParts: parts
                        ) { _, _, columns in
                            BLAS.sgemm(
                                m: co * 9, n: columns.count, k: ci, a: wt, lda: ci,
                                b: xs + start * hwIn + columns.lowerBound, ldb: n * hwIn, c: cols + columns.lowerBound, ldc: rowLength)
                        }
                        Parallel.split(co, maxParts: parts) { part, range in
                            let scratch = scratch + part * scratchStride
                            for o in range {
                                for j in 0..<nc {
                                    transposedConv3x3UpFIR(
                                        cols + o * 9 * rowLength + j * hwIn, tapStride: rowLength, height: hin, width: hin, fir: fir,
                                        into: y0 + (o * n + start + j) * hw, scratch: scratch)
                                    epilogue.apply(channel: o, sample: start + j, pixels: 0..<hw)
                                }
                            }
                        }
                        n0 += nc
                    }
                } else {
                    // Per output channel: the tap planes of the transposed conv (GEMM), then the fused
                    // scatter + FIR, then the epilogue, while the plane is in cache. Fixed pieces of the
                    // output channels: the GEMMs' shapes never follow the worker count.
                    Parallel.forEachPiece(co, pieces: st.outChannelPieces, maxParts: parts) { part, _, range in
                        let scratch = scratch + part * scratchStride
                        // The piece's rows of cols [O * 9, chunk * H * W], placed for a full chunk: a
                        // shorter last chunk packs its rows closer, and must stay inside the piece's own
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
                                        tapPlanes + (o - range.lowerBound) * 9 * rowLength + j * hwIn, tapStride: rowLength,
                                        height: hin, width: hin, fir: fir, into: y0 + (o * n + n0 + j) * hw, scratch: scratch)
                                    epilogue.apply(channel: o, sample: n0 + j, pixels: 0..<hw)
                                }
                            }
                            n0 += nc
                        }
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
                        // Split by image rows (all channels each), in fixed pieces: every worker lowers,
                        // multiplies and finishes its own pieces' columns, and packs only those.
                        let partStride = workspace.colsPartStride
                        Parallel.forEachPiece(n * hin, pieces: st.rowPieces, maxParts: parts) { part, _, rows in
                            let c = cols + part * partStride
                            let (r0, r1) = (rows.lowerBound, rows.upperBound)
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
                        }
                    } else {
                        // Small grids: the weight is the bigger operand, so split the output channels
                        // in fixed pieces (each packs its rows of the weight) over columns lowered once.
                        var n0 = 0
                        while n0 < n {
                            let nc = min(st.chunk, n - n0)
                            let start = n0
                            im2col3x3Rows(x, channels: ci, batch: n, height: hin, width: hin, rows: n0 * hin..<(n0 + nc) * hin, scales: s, into: cols)
                            Parallel.forEachPiece(co, pieces: st.outChannelPieces, maxParts: parts) { _, _, range in
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
    /// with the transformed kernel u, for a plain layer's grid: the tile rows cut into the layer's
    /// fixed pieces, over `parts` workers, each transforming, multiplying and finishing its own
    /// pieces. `finish` gets each piece's image rows (global over the batch) while they are in cache.
    func winogradConvolve(
        _ x: UnsafePointer<Float>, inChannels ci: Int, scales s: UnsafePointer<Float>?, weights u: UnsafePointer<Float>, outChannels co: Int,
        layer l: SynthesisLayer, _ st: SynthesisWorkspace.ConvState, parts: Int, into y: UnsafeMutablePointer<Float>,
        workspace: SynthesisWorkspace, finish: ((Range<Int>) -> Void)?
    ) {
        let n = workspace.batch
        let r = l.resolution
        nonisolated(unsafe) let (x, s, u, y) = (x, s, u, y)
        Parallel.forEachPiece(n * r / winogradTileSize, pieces: st.winogradPieces, maxParts: parts) { part, _, rows in
            let v = workspace.winogradV.pointer + part * workspace.winogradStride
            let m = workspace.winogradM.pointer + part * workspace.winogradStride
            let pad = workspace.winogradPad.pointer + part * workspace.winogradPadStride
            let tiles = WinogradTiles(batch: n, height: r, width: r, rows: rows)
            winogradConv3x3(x, inChannels: ci, scales: s, weights: u, outChannels: co, tiles: tiles, into: y, v: v, m: m, pad: pad)
            finish?(winogradTileSize * rows.lowerBound..<winogradTileSize * rows.upperBound)
        }
    }
}
