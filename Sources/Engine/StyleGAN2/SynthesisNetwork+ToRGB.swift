// NVIDIA's `ToRGBLayer`: a modulated 1x1 conv (no demodulation), bias, clamp. Forward and backward
// side by side.
//
// Dimension letters: N batch, I input channels, C image channels, R x R the grid. x [I, N, R, R],
// y [C, N, R, R], styles s [N, I], the per-sample modulated weight [N, C, I].

extension SynthesisNetwork {
    /// rs.y [C, N, R, R] = the layer applied to x [I, N, R, R] with the styles of ws [N, num_ws, w_dim].
    func rgbForward(_ l: ToRGBLayer, _ rs: SynthesisWorkspace.RGBState, input x: UnsafePointer<Float>, ws: UnsafePointer<Float>, workspace: SynthesisWorkspace) {
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
            // Fixed pieces of the columns [N * R * R]; a piece may span samples.
            Parallel.forEachPiece(
                n * hw, pieces: rs.columnPieces, granule: SynthesisWorkspace.columnGranule,
                maxParts: Self.parts(flops: 2 * Double(n * hw * ci * imgC), workspace)
            ) { _, _, range in
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

    /// gx [I, N, R, R] += d/d x of sum(y * rs.gImg), with the styles' and (with `params`) parameters'
    /// gradients. Masks rs.gImg in place where the clamp was active.
    func rgbBackward(
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
            Parallel.forEachPiece(ci, pieces: rs.inChannelPieces, maxParts: parts) { _, _, range in
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
}
