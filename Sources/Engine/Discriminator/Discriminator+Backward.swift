// The discriminator's backward to its input image, the forward in reverse: the epilogue (out, fc,
// conv, minibatch std), then each block from the deepest needed to the first (skip, conv1, conv0),
// then fromrgb. Only the input's gradient is computed, never the parameters'.
//
// Dimension letters as in Discriminator+Forward. Gradients are [C, N, H, W] like the activations.

extension Discriminator {
    /// d/d img of sum over the given outputs of sum(output * upstream[output]), at the latest forward's
    /// point: [N, C, R, R]. `upstream` holds any subset of the outputs, each shaped as
    /// `shape(of:batch:)`; the forward must have run at least as far as the deepest of them.
    public func backward(_ upstream: [DiscriminatorOutput: Tensor], workspace ws: DiscriminatorWorkspace) -> Tensor {
        let n = ws.batch
        let r = config.imgResolution
        let ci = config.imgChannels
        precondition(ws.layout == DiscriminatorWorkspace.layout(of: self), "the workspace was made for another discriminator")
        guard let deepest = upstream.keys.max() else { return Tensor(zeros: [n, ci, r, r]) }
        guard let through = ws.forwardThrough, deepest <= through else {
            preconditionFailure(
                "backward from \(deepest) needs a forward through it (the last forward stopped after \(ws.forwardThrough.map(\.name) ?? "nothing"))")
        }
        for (o, g) in upstream {
            precondition(outputs.contains(o), "this discriminator has no output \(o)")
            precondition(g.shape == shape(of: o, batch: n), "upstream \(o) must be \(shape(of: o, batch: n)), got \(g.shape)")
        }
        // Blocks 0 ... last take part; each block's gOut starts as its upstream (or zero).
        let last: Int
        if case .block(let res) = deepest { last = blockIndex(res) } else { last = blocks.count - 1 }
        for bi in 0...last {
            let st = ws.blocks[bi]
            let res = blocks[bi].resolution
            if let g = upstream[.block(resolution: res)] {
                g.withUnsafeBufferPointer {
                    ChannelLayout.fromNCHW($0.baseAddress!, channels: blocks[bi].outChannels, batch: n, resolution: res / 2, into: st.gOut.pointer)
                }
            } else {
                st.gOut.zero()
            }
        }
        if deepest.inEpilogue { epilogueBackward(upstream, deepest: deepest, ws) }
        for bi in stride(from: last, through: 0, by: -1) {
            let target = bi == 0 ? ws.gRgb.pointer : ws.blocks[bi - 1].gOut.pointer
            if bi == 0 { ws.gRgb.zero() }
            blockBackward(blocks[bi], ws.blocks[bi], gradient: target, ws)
        }
        // fromrgb: through its activation, then gimg [3, N, R, R] = scaled weight^T [3, T] g.
        let rgb = blocks[0].fromrgb!
        let total = n * r * r
        activationBackward(rgb, gradient: ws.gRgb.pointer, output: ws.blocks[0].rgb!.pointer, count: rgb.outChannels * total, ws)
        pointwiseBackward(rgb, gradient: ws.gRgb.pointer, columns: total, into: ws.gImage.pointer, accumulate: false, ws)
        return ChannelLayout.toNCHW(ws.gImage.pointer, channels: ci, batch: n, resolution: r)
    }

    /// Adds the epilogue's gradient (from the upstream on b4.mbstd ... logits) into the last block's gOut.
    func epilogueBackward(_ upstream: [DiscriminatorOutput: Tensor], deepest: DiscriminatorOutput, _ ws: DiscriminatorWorkspace) {
        let n = ws.batch
        let e = epilogue
        let c = e.channels, cf = e.conv.inChannels
        func load(_ o: DiscriminatorOutput, into b: Buffer) {
            if let g = upstream[o] { g.withUnsafeBufferPointer { b.pointer.update(from: $0.baseAddress!, count: b.count) } } else { b.zero() }
        }
        if deepest >= .conv {
            // [N, C, 4, 4] flattened is fc's [N, C * 16] input layout as it is.
            load(.conv, into: ws.gConvFlat)
            if deepest >= .fc {
                load(.fc, into: ws.gFc)
                if deepest >= .logits {
                    load(.logits, into: ws.gLogits)
                    e.out.backward(
                        x: ws.fc.pointer, y: ws.logits.pointer, gy: ws.gLogits.pointer, rows: n, ldx: c, ldy: 1,
                        gx: ws.gFc.pointer, ldgx: c, gWeight: nil, gBias: nil)
                }
                e.fc.backward(
                    x: ws.convFlat.pointer, y: ws.fc.pointer, gy: ws.gFc.pointer, rows: n, ldx: c * 16, ldy: c,
                    gx: ws.gConvFlat.pointer, ldgx: c * 16, gWeight: nil, gBias: nil)
            }
            for ch in 0..<c {
                for s in 0..<n { (ws.gConv.pointer + (ch * n + s) * 16).update(from: ws.gConvFlat.pointer + (s * c + ch) * 16, count: 16) }
            }
            activationBackward(e.conv, gradient: ws.gConv.pointer, output: ws.conv.pointer, count: c * n * 16, ws)
        }
        if let g = upstream[.mbstd] {
            g.withUnsafeBufferPointer { ChannelLayout.fromNCHW($0.baseAddress!, channels: cf, batch: n, resolution: 4, into: ws.gMbstd.pointer) }
        } else {
            ws.gMbstd.zero()
        }
        if deepest >= .conv { conv3x3InputBackward(e.conv, gradient: ws.gConv.pointer, resolution: 4, into: ws.gMbstd.pointer, ws) }
        let lastBlock = ws.blocks[blocks.count - 1]
        e.mbstd.backward(
            ws.gMbstd.pointer, input: lastBlock.out.pointer, channels: c, batch: n, pixels: 16, into: lastBlock.gOut.pointer)
    }

    /// gx [T, N, R, R] += the block's input gradient for st.gOut (its activations' slopes read from
    /// the outputs the forward kept; the input itself is not needed).
    func blockBackward(
        _ b: DiscriminatorBlock, _ st: DiscriminatorWorkspace.BlockState, gradient gx: UnsafeMutablePointer<Float>,
        _ ws: DiscriminatorWorkspace
    ) {
        let n = ws.batch
        let r = b.resolution, rh = r / 2, u = b.filteredResolution
        let t = b.tmpChannels, o = b.outChannels
        let totalH = n * rh * rh
        // skip (linear, no clamp): gv [T, N, Rh, Rh] = gain * scaled^T g, then the FIR's adjoint into gx.
        pointwiseBackward(b.skip, gradient: st.gOut.pointer, columns: totalH, into: ws.v.pointer, accumulate: false, ws)
        firAdjointPlanes(ws.v.pointer, planes: t * n, height: r, axis: b.skip.firAxis, into: gx, ws)
        // conv1: gZ = g through its activation; gu [T, N, U, U] = the stride-2 conv's adjoint.
        ws.gZ.pointer.update(from: st.gOut.pointer, count: o * totalH)
        activationBackward(b.conv1, gradient: ws.gZ.pointer, output: st.z.pointer, count: o * totalH, ws)
        ws.u.pointer.update(repeating: 0, count: t * n * u * u)
        conv3x3Stride2InputBackward(b.conv1, gradient: ws.gZ.pointer, outResolution: rh, inResolution: u, into: ws.u.pointer, ws)
        // gh [T, N, R, R] = the FIR's adjoint of gu, through conv0's activation.
        ws.gH.pointer.update(repeating: 0, count: t * n * r * r)
        firAdjointPlanes(ws.u.pointer, planes: t * n, height: r, axis: b.conv1.firAxis, into: ws.gH.pointer, ws)
        activationBackward(b.conv0, gradient: ws.gH.pointer, output: st.h.pointer, count: t * n * r * r, ws)
        // conv0: gx += its adjoint.
        conv3x3InputBackward(b.conv0, gradient: ws.gH.pointer, resolution: r, into: gx, ws)
    }

    // MARK: - Layers

    /// g *= the activation's derivative at output y (both `count` floats), in pieces.
    func activationBackward(
        _ l: Conv2dLayer, gradient g: UnsafeMutablePointer<Float>, output y: UnsafeMutablePointer<Float>, count: Int, _ ws: DiscriminatorWorkspace
    ) {
        let y = UnsafePointer(y)
        let parts = count >= 1 << 16 ? ws.threads : 1
        Parallel.forEachPiece(count, pieces: Parallel.pieceCount(units: (count + 15) / 16, quantum: DiscriminatorWorkspace.pieceQuantum), granule: 16, maxParts: parts) { _, _, rr in
            l.activationBackward(g + rr.lowerBound, output: y + rr.lowerBound, count: rr.count)
        }
    }

    /// gx [I, cols] (+)= activation gain x scaled weight^T [I, O] g [O, cols] for a 1x1 layer whose
    /// activation is linear and unclamped (skip), or whose g already went through its activation
    /// (fromrgb: gain 1).
    func pointwiseBackward(
        _ l: Conv2dLayer, gradient g: UnsafeMutablePointer<Float>, columns total: Int, into gx: UnsafeMutablePointer<Float>,
        accumulate: Bool, _ ws: DiscriminatorWorkspace
    ) {
        precondition(l.lrelu || l.convClamp == nil, "\(l.name): a linear layer's backward here takes no clamp")
        let ci = l.inChannels, co = l.outChannels
        let w = UnsafePointer(l.prepared.scaled.pointer)
        let alpha: Float = l.lrelu ? 1 : l.activationGain
        let g = UnsafePointer(g)
        let pieces = Parallel.pieceCount(units: (total + 15) / 16, quantum: DiscriminatorWorkspace.pieceQuantum)
        Parallel.forEachPiece(total, pieces: pieces, granule: 16, maxParts: ws.parts(flops: 2 * Double(total * ci * co))) { _, _, columns in
            BLAS.sgemm(
                transA: true, m: ci, n: columns.count, k: co, alpha: alpha, a: w, lda: ci, b: g + columns.lowerBound, ldb: total,
                beta: accumulate ? 1 : 0, c: gx + columns.lowerBound, ldc: total)
        }
    }

    /// gx [I, N, R, R] += the input gradient of a stride-1, padding-1 3x3 conv for g [O, N, R, R]
    /// (already through the activation): the correlation of g with the flipped, transposed weight.
    func conv3x3InputBackward(
        _ l: Conv2dLayer, gradient g: UnsafeMutablePointer<Float>, resolution r: Int, into gx: UnsafeMutablePointer<Float>,
        _ ws: DiscriminatorWorkspace
    ) {
        let n = ws.batch
        let ci = l.inChannels, co = l.outChannels
        let rows = n * r
        let k = 9 * co
        let total = rows * r
        let g = UnsafePointer(g)
        if DiscriminatorWorkspace.usesWinograd(resolution: r, from: ws.winogradFrom) {
            // Into gTmp, then added to gx row piece by row piece while in cache.
            let tmp = ws.gTmp.pointer
            let uf = UnsafePointer(l.winogradWeights.flipped.pointer)
            winogradConvolve(g, inChannels: co, weights: uf, outChannels: ci, resolution: r, into: tmp, ws) { rr in
                let columns = (rr.lowerBound * r)..<(rr.upperBound * r)
                for i in 0..<ci {
                    let dst = gx + i * total, src = tmp + i * total
                    for j in columns { dst[j] += src[j] }
                }
            }
            return
        }
        let plan = DiscriminatorWorkspace.rowPlan(rows: rows, k: k, width: r, budget: ws.columnBudget)
        let wf = UnsafePointer(l.prepared.flipped!.pointer)
        let colsBase = ws.cols.pointer
        let stride0 = ws.colsStride
        Parallel.forEachPiece(rows, pieces: plan.pieces, maxParts: ws.parts(flops: 2 * Double(total * k * ci))) { part, _, rr in
            let cols = colsBase + part * stride0
            im2col3x3Rows(g, channels: co, batch: n, height: r, width: r, rows: rr, scales: nil, into: cols)
            let columns = (rr.lowerBound * r)..<(rr.upperBound * r)
            BLAS.sgemm(
                m: ci, n: columns.count, k: k, a: wf, lda: k, b: cols, ldb: columns.count, beta: 1, c: gx + columns.lowerBound, ldc: total)
        }
    }

    /// gu [I, N, U, U] += the input gradient of the stride-2 3x3 conv for g [O, N, Rh, Rh] (already
    /// through the activation): per piece of output rows, gcols = scaled^T g, scattered back. A
    /// piece's last row shares an input row with the next piece's first, so the even pieces run
    /// first, then the odd ones.
    func conv3x3Stride2InputBackward(
        _ l: Conv2dLayer, gradient g: UnsafeMutablePointer<Float>, outResolution rh: Int, inResolution u: Int,
        into gu: UnsafeMutablePointer<Float>, _ ws: DiscriminatorWorkspace
    ) {
        let n = ws.batch
        let ci = l.inChannels, co = l.outChannels
        let rows = n * rh
        let k = 9 * ci
        let total = rows * rh
        let plan = DiscriminatorWorkspace.rowPlan(rows: rows, k: k, width: rh, budget: ws.columnBudget)
        let w = UnsafePointer(l.prepared.scaled.pointer)
        let g = UnsafePointer(g)
        let colsBase = ws.cols.pointer
        let stride0 = ws.colsStride
        let parts = ws.parts(flops: Double(total * k * co))  // half the layer per phase
        for parity in 0..<2 {
            Parallel.forEachPiece(rows, pieces: plan.pieces, maxParts: parts, parity: parity) { part, _, rr in
                let cols = colsBase + part * stride0
                let columns = (rr.lowerBound * rh)..<(rr.upperBound * rh)
                BLAS.sgemm(
                    transA: true, m: k, n: columns.count, k: co, a: w, lda: k, b: g + columns.lowerBound, ldb: total,
                    c: cols, ldc: columns.count)
                col2im3x3Stride2RowsAccumulate(
                    cols, channels: ci, batch: n, inHeight: u, inWidth: u, outHeight: rh, outWidth: rh, rows: rr, into: gu)
            }
        }
    }

    /// gx [P, H, H] += the FIR's adjoint of g [P, Ho, Ho] on every plane.
    func firAdjointPlanes(
        _ g: UnsafeMutablePointer<Float>, planes: Int, height h: Int, axis: FIRAxis, into gx: UnsafeMutablePointer<Float>,
        _ ws: DiscriminatorWorkspace
    ) {
        let ho = axis.outputLength(h)
        let g = UnsafePointer(g)
        let scratch = ws.firScratch.pointer
        let stride = ws.firStride
        let flops = 2 * Double(planes * (h * ho + ho * ho) * axis.taps.count)
        Parallel.forEachPiece(planes, pieces: Parallel.pieceCount(units: planes, quantum: DiscriminatorWorkspace.pieceQuantum), maxParts: ws.parts(flops: flops)) { part, _, pr in
            firDown2dAdjoint(
                g + pr.lowerBound * ho * ho, planes: pr.count, height: h, width: h, axis: axis, into: gx + pr.lowerBound * h * h,
                accumulate: true, scratch: scratch + part * stride)
        }
    }
}
