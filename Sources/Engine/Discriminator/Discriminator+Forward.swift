// The discriminator's forward over a workspace: per block, skip (FIR down, 1x1 GEMM), conv0 (3x3
// im2col + GEMM), conv1 (FIR, stride-2 3x3 im2col + GEMM) added onto skip; then the epilogue.
// Every conv finishes its bias_act on the columns of its GEMM piece while they are in cache.
//
// Dimension letters: N batch, I and O a layer's input and output channels, T and O a block's,
// R x R its grid, Rh = R / 2, U = R + 1. Activations are [C, N, H, W].

extension Discriminator {
    /// Runs the discriminator on img [N, C, R, R] (values in [-1, 1]) up to and including `through`,
    /// keeping every activation on the way in `workspace` for `workspace.activation` and `backward`.
    /// A loss that reads b64 ... b16 only should stop at the last of them: the rest costs nothing then.
    /// Through the epilogue, the minibatch-std group min(G, N) must divide N (NVIDIA's reshape needs it).
    public func forward(_ images: Tensor, through: DiscriminatorOutput = .logits, workspace ws: DiscriminatorWorkspace) {
        let n = ws.batch
        let r = config.imgResolution
        precondition(
            images.shape == [n, config.imgChannels, r, r],
            "images must be [\(n), \(config.imgChannels), \(r), \(r)], got \(images.shape)")
        precondition(outputs.contains(through), "this discriminator has no output \(through) (it has \(outputs.map(\.name)))")
        precondition(ws.layout == DiscriminatorWorkspace.layout(of: self), "the workspace was made for another discriminator")
        precondition(
            !through.inEpilogue || config.epilogueAccepts(batch: n),
            "minibatch-std groups of \(config.mbstdGroup(batch: n)) do not divide a batch of \(n) (NVIDIA's reshape fails too): "
                + "stop at b\(blocks.last?.resolution ?? 8) or use a batch the group divides")
        ws.forwardThrough = nil
        images.withUnsafeBufferPointer {
            ChannelLayout.fromNCHW($0.baseAddress!, channels: config.imgChannels, batch: n, resolution: r, into: ws.image.pointer)
        }
        for (bi, b) in blocks.enumerated() {
            let st = ws.blocks[bi]
            let x: UnsafePointer<Float>
            if let rgb = b.fromrgb, let y = st.rgb {
                pointwiseForward(rgb, input: ws.image.pointer, columns: n * r * r, into: y.pointer, ws)
                x = UnsafePointer(y.pointer)
            } else {
                x = UnsafePointer(ws.blocks[bi - 1].out.pointer)
            }
            blockForward(b, st, input: x, ws)
            if through == .block(resolution: b.resolution) {
                ws.forwardThrough = through
                return
            }
        }
        epilogueForward(through: through, ws)
        ws.forwardThrough = through
    }

    /// st.out = skip(x) + conv1(conv0(x)) for x [T, N, R, R].
    func blockForward(_ b: DiscriminatorBlock, _ st: DiscriminatorWorkspace.BlockState, input x: UnsafePointer<Float>, _ ws: DiscriminatorWorkspace) {
        let n = ws.batch
        let r = b.resolution, rh = r / 2, u = b.filteredResolution
        let t = b.tmpChannels
        // skip: v [T, N, Rh, Rh] = FIR down by 2 of x, then the 1x1 conv (gain sqrt(0.5)) into out.
        firPlanes(x, planes: t * n, height: r, axis: b.skip.firAxis, into: ws.v.pointer, ws)
        pointwiseForward(b.skip, input: ws.v.pointer, columns: n * rh * rh, into: st.out.pointer, ws)
        // conv0: h [T, N, R, R].
        conv3x3Forward(b.conv0, input: x, inResolution: r, stride: 1, into: st.h.pointer, ws)
        // conv1: u [T, N, U, U] = FIR (padding 2) of h; z = the stride-2 conv of u; out += z.
        firPlanes(st.h.pointer, planes: t * n, height: r, axis: b.conv1.firAxis, into: ws.u.pointer, ws)
        nonisolated(unsafe) let out = st.out.pointer
        nonisolated(unsafe) let z = st.z.pointer
        let total = n * rh * rh
        let o = b.outChannels
        conv3x3Forward(b.conv1, input: ws.u.pointer, inResolution: u, stride: 2, into: z, ws) { columns in
            for ch in 0..<o {
                let dst = out + ch * total, src = z + ch * total
                for j in columns { dst[j] += src[j] }
            }
        }
    }

    /// Epilogue b4 on the last block's x [C, N, 4, 4], as far as `through`.
    func epilogueForward(through: DiscriminatorOutput, _ ws: DiscriminatorWorkspace) {
        let n = ws.batch
        let e = epilogue
        let c = e.channels
        e.mbstd.forward(ws.blocks[blocks.count - 1].out.pointer, channels: c, batch: n, pixels: 16, into: ws.mbstd.pointer)
        if through == .mbstd { return }
        conv3x3Forward(e.conv, input: ws.mbstd.pointer, inResolution: 4, stride: 1, into: ws.conv.pointer, ws)
        // NVIDIA's x.flatten(1) of [N, C, 4, 4]: fc's input [N, C * 16].
        for ch in 0..<c {
            for s in 0..<n { (ws.convFlat.pointer + (s * c + ch) * 16).update(from: ws.conv.pointer + (ch * n + s) * 16, count: 16) }
        }
        if through == .conv { return }
        e.fc.forward(ws.convFlat.pointer, rows: n, ldx: c * 16, into: ws.fc.pointer, ldy: c)
        if through == .fc { return }
        e.out.forward(ws.fc.pointer, rows: n, ldx: c, into: ws.logits.pointer, ldy: 1)
    }

    // MARK: - Layers

    /// y [O, cols] = act(scaled weight [O, I] x [I, cols]): a 1x1 conv over `columns` columns.
    func pointwiseForward(
        _ l: Conv2dLayer, input x: UnsafePointer<Float>, columns total: Int, into y: UnsafeMutablePointer<Float>, _ ws: DiscriminatorWorkspace
    ) {
        let ci = l.inChannels, co = l.outChannels
        let w = UnsafePointer(l.prepared.scaled.pointer)
        let pieces = Parallel.pieceCount(units: (total + 15) / 16, quantum: DiscriminatorWorkspace.pieceQuantum)
        Parallel.forEachPiece(total, pieces: pieces, granule: 16, maxParts: ws.parts(flops: 2 * Double(total * ci * co))) { _, _, columns in
            BLAS.sgemm(
                m: co, n: columns.count, k: ci, a: w, lda: ci, b: x + columns.lowerBound, ldb: total,
                c: y + columns.lowerBound, ldc: total)
            l.applyActivation(y, ldy: total, channels: 0..<co, columns: columns)
        }
    }

    /// y [O, N, Ho, Ho] = act(conv of x [I, N, Hin, Hin]): stride 1 with padding 1 (Ho = Hin), or
    /// stride 2 without (Ho = (Hin - 3) / 2 + 1, the FIR-filtered grid of a down layer). Pieces of
    /// output rows: lower, GEMM, activation, then `finish` on the piece's columns.
    func conv3x3Forward(
        _ l: Conv2dLayer, input x: UnsafePointer<Float>, inResolution hin: Int, stride: Int,
        into y: UnsafeMutablePointer<Float>, _ ws: DiscriminatorWorkspace, finish: ((Range<Int>) -> Void)? = nil
    ) {
        let n = ws.batch
        let ci = l.inChannels, co = l.outChannels
        if stride == 1 && DiscriminatorWorkspace.usesWinograd(resolution: hin, from: ws.winogradFrom) {
            let total = n * hin * hin
            winogradConvolve(
                x, inChannels: ci, weights: UnsafePointer(l.winogradWeights.weight.pointer), outChannels: co, resolution: hin,
                into: y, ws
            ) { rows in
                let columns = (rows.lowerBound * hin)..<(rows.upperBound * hin)
                l.applyActivation(y, ldy: total, channels: 0..<co, columns: columns)
                finish?(columns)
            }
            return
        }
        let ho = stride == 1 ? hin : (hin - 3) / 2 + 1
        let rows = n * ho
        let k = 9 * ci
        let total = rows * ho
        let plan = DiscriminatorWorkspace.rowPlan(rows: rows, k: k, width: ho, budget: ws.columnBudget)
        let w = UnsafePointer(l.prepared.scaled.pointer)
        let colsBase = ws.cols.pointer
        let stride0 = ws.colsStride
        Parallel.forEachPiece(rows, pieces: plan.pieces, maxParts: ws.parts(flops: 2 * Double(total * k * co))) { part, _, rr in
            let cols = colsBase + part * stride0
            if stride == 1 {
                im2col3x3Rows(x, channels: ci, batch: n, height: hin, width: hin, rows: rr, scales: nil, into: cols)
            } else {
                im2col3x3Stride2Rows(
                    x, channels: ci, batch: n, inHeight: hin, inWidth: hin, outHeight: ho, outWidth: ho, rows: rr, into: cols)
            }
            let columns = (rr.lowerBound * ho)..<(rr.upperBound * ho)
            BLAS.sgemm(m: co, n: columns.count, k: k, a: w, lda: k, b: cols, ldb: columns.count, c: y + columns.lowerBound, ldc: total)
            l.applyActivation(y, ldy: total, channels: 0..<co, columns: columns)
            finish?(columns)
        }
    }

    /// y [O, N, R, R] = the stride-1, padding-1 correlation of x [I, N, R, R] with the kernel whose
    /// Winograd transform is u [36, O, I], in pieces of tile rows; `finish` gets each piece's image
    /// rows (global over the batch) while they are in cache.
    func winogradConvolve(
        _ x: UnsafePointer<Float>, inChannels ci: Int, weights u: UnsafePointer<Float>, outChannels co: Int, resolution r: Int,
        into y: UnsafeMutablePointer<Float>, _ ws: DiscriminatorWorkspace, finish: (Range<Int>) -> Void
    ) {
        let n = ws.batch
        let plan = DiscriminatorWorkspace.winogradPlan(batch: n, resolution: r, channels: max(ci, co), budget: ws.columnBudget)
        let (vBase, mBase, padBase) = (ws.winogradV.pointer, ws.winogradM.pointer, ws.winogradPad.pointer)
        let (stride, padStride) = (ws.winogradStride, ws.winogradPadStride)
        // A Winograd conv does ~1/3 of the direct one's multiply-adds; count the direct ones.
        let parts = ws.parts(flops: 2 * Double(n * r * r * ci * co * 9) / 3)
        Parallel.forEachPiece(n * r / winogradTileSize, pieces: plan.pieces, maxParts: parts) { part, _, rows in
            let tiles = WinogradTiles(batch: n, height: r, width: r, rows: rows)
            winogradConv3x3(
                x, inChannels: ci, scales: nil, weights: u, outChannels: co, tiles: tiles, into: y, v: vBase + part * stride,
                m: mBase + part * stride, pad: padBase + part * padStride)
            finish(winogradTileSize * rows.lowerBound..<winogradTileSize * rows.upperBound)
        }
    }

    /// out [P, Ho, Ho] = the FIR of `axis` on every plane of x [P, H, H].
    func firPlanes(
        _ x: UnsafePointer<Float>, planes: Int, height h: Int, axis: FIRAxis, into out: UnsafeMutablePointer<Float>,
        _ ws: DiscriminatorWorkspace
    ) {
        let ho = axis.outputLength(h)
        let scratch = ws.firScratch.pointer
        let stride = ws.firStride
        let flops = 2 * Double(planes * (h * ho + ho * ho) * axis.taps.count)
        Parallel.forEachPiece(planes, pieces: Parallel.pieceCount(units: planes, quantum: DiscriminatorWorkspace.pieceQuantum), maxParts: ws.parts(flops: flops)) { part, _, pr in
            firDown2d(
                x + pr.lowerBound * h * h, planes: pr.count, height: h, width: h, axis: axis, into: out + pr.lowerBound * ho * ho,
                scratch: scratch + part * stride)
        }
    }
}
