// A Winograd layer's weight gradient in the transformed domain (Kernels/WinogradWeightGradient.swift):
// a quarter of the multiply-adds of im2col + GEMM, which made most of a tuning step's backward
// (`SceneTuner` wants every conv weight's gradient at every step).
//
// Dimension letters as in SynthesisNetwork+ConvBackward.swift; T tiles.

extension SynthesisNetwork {
    /// gW [O, I, 3, 3] += d/d weight of plain Winograd layer `l`'s correlation of its scaled input
    /// (x [I, N, R, R] times the styles st.s [N, I]) with the output's gradient g [O, N, R, R].
    /// Samples go in the layer's chunks; each chunk's tile rows in fixed pieces (transformed side by
    /// side into a scratch of their own), then the 36 positions' GEMMs in fixed groups, each
    /// position summing the pieces in order: the bits never follow the worker count.
    func winogradWeightGradient(
        _ l: SynthesisLayer, _ st: SynthesisWorkspace.ConvState, input x: UnsafePointer<Float>, gOut g: UnsafePointer<Float>,
        parts: Int, workspace: SynthesisWorkspace, into gW: UnsafeMutablePointer<Float>
    ) {
        let n = workspace.batch
        let ci = l.inChannels
        let co = l.outChannels
        let r = l.resolution
        let th = r / winogradTileSize
        let tw = th
        let ldu = winogradPositionStride(rows: co, tiles: ci)
        // A chunk's tile rows in fixed pieces, each with its V [36, I, T] and dM [36, O, T] at its
        // offset past dU [36, O, I] in the scratch.
        typealias Piece = (rows: Range<Int>, v: Int, ldv: Int, m: Int, ldm: Int)
        func pieces(_ rows: Range<Int>) -> (pieces: [Piece], end: Int) {
            let count = min(SynthesisWorkspace.weightPieceQuantum, rows.count)
            var out: [Piece] = []
            var offset = winogradPositions * ldu
            for p in 0..<count {
                let range = (rows.lowerBound + rows.count * p / count)..<(rows.lowerBound + rows.count * (p + 1) / count)
                let tiles = range.count * tw
                let ldv = winogradPositionStride(rows: ci, tiles: tiles)
                let ldm = winogradPositionStride(rows: co, tiles: tiles)
                out.append((range, offset, ldv, offset + winogradPositions * ldv, ldm))
                offset += winogradPositions * (ldv + ldm)
            }
            return (out, offset)
        }
        // The first chunk is the largest.
        let scratchBuffer = workspace.winogradWeightGradientScratch(count: pieces(0..<(min(st.chunk, n) * th)).end)
        nonisolated(unsafe) let scratch = scratchBuffer.pointer
        nonisolated(unsafe) let (x, g, gW, du) = (x, g, gW, scratch)
        nonisolated(unsafe) let s = st.s.pointer
        du.update(repeating: 0, count: winogradPositions * ldu)
        let pad = workspace.winogradPad.pointer
        let padStride = workspace.winogradPadStride
        var n0 = 0
        while n0 < n {
            let nc = min(st.chunk, n - n0)
            let chunk = pieces((n0 * th)..<((n0 + nc) * th)).pieces
            Parallel.forEachPiece(chunk.count, pieces: chunk.count, maxParts: parts) { part, index, _ in
                let p = chunk[index]
                let tiles = WinogradTiles(batch: n, height: r, width: r, rows: p.rows)
                winogradInputTransform(x, channels: ci, scales: s, tiles: tiles, into: scratch + p.v, ldv: p.ldv, pad: pad + part * padStride)
                winogradOutputGradientTransform(g, channels: co, tiles: tiles, into: scratch + p.m, ldm: p.ldm)
            }
            Parallel.forEachPiece(winogradPositions, pieces: SynthesisWorkspace.pieceQuantum, maxParts: parts) { _, _, positions in
                for p in chunk {
                    winogradWeightGradientMultiply(
                        scratch + p.m, ldm: p.ldm, scratch + p.v, ldv: p.ldv, outChannels: co, inChannels: ci, tiles: p.rows.count * tw,
                        positions: positions, into: du, ldu: ldu)
                }
            }
            n0 += nc
        }
        Parallel.forEachPiece(co, pieces: st.outChannelPieces, maxParts: parts) { _, _, outputs in
            winogradWeightGradientTransform3x3(du, ldu: ldu, outChannels: co, inChannels: ci, outputs: outputs, into: gW)
        }
    }
}
