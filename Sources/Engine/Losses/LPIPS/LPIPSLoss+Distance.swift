// LPIPS's head on one tap: unit-normalise the prediction's features over channels, compare with the
// target's (normalised once, cached), weigh each channel by the linear layer, average over positions.
//
// For one position, with x [C] the prediction's ReLU output there, t the target's normalised one,
// w [C] the linear layer and P = H W positions:
//   norm = sqrt(sum_c x_c^2), s = norm + eps, f = x / s, value = sum_c w_c (f_c - t_c)^2 / P.
// Its gradient (with a = `scale` 2 / P and d_c = f_c - t_c):
//   g_c = a w_c d_c = d value / d f_c, and through f = x / s, d s / d x_j = x_j / norm:
//   d value / d x_j = g_j / s - x_j (sum_c g_c x_c) / (norm s^2)
//                   = a / s (w_j d_j - x_j k),  k = (sum_c w_c d_c x_c) / (s norm).
// At a position whose channels are all 0 (norm 0) torch's sqrt backward is 0 / 0 (NaN), but every
// x_j there is a ReLU output of 0, whose backward discards it: the position contributes no gradient,
// in torch and here.
//
// Layout: taps are [C, N, H, W], a position is a column of the [C, N P] matrix. Positions are taken
// in blocks within one sample, each block's sums over channels kept in a worker's scratch.

extension LPIPSLoss {
    /// Positions per block.
    static let distanceBlock = 64
    /// Floats of scratch one worker needs for a block: norm, 1 / s, k and the value per position.
    static let distanceScratchPerWorker = 4 * distanceBlock

    /// Tap `tap`'s term per sample [N] for the prediction's ReLU output `features` [C, N, H, W] and the
    /// target's normalised one `target`; with `gradient` [C, N, H, W], adds `scale` * d(sum of the
    /// terms) / d features into it. `scratch` holds `distanceScratchPerWorker` floats for each of
    /// `threads` workers.
    func distance(
        tap: Int, features: UnsafePointer<Float>, target: UnsafePointer<Float>, batch n: Int, grid: (h: Int, w: Int),
        gradient: UnsafeMutablePointer<Float>?, scale: Float, scratch: UnsafeMutablePointer<Float>, threads: Int
    ) -> [Double] {
        let c = linear[tap].count
        let positions = grid.h * grid.w
        let ld = n * positions
        let blocksPerSample = (positions + Self.distanceBlock - 1) / Self.distanceBlock
        let units = n * blocksPerSample
        // Fixed pieces (not the worker count): each sums its blocks, the pieces are added in order.
        let pieces = Parallel.pieceCount(units: units, maxUnitsPerPiece: max(1, units / 8), quantum: 4)
        var partials = [Double](repeating: 0, count: pieces * n)
        let parts = c * ld >= 1 << 15 ? threads : 1
        let a = scale * 2 / Float(positions)
        let eps = Self.epsilon
        let block = Self.distanceBlock
        linear[tap].withUnsafeBufferPointer { lin in
            partials.withUnsafeMutableBufferPointer { sums in
                nonisolated(unsafe) let (x, t, lin, sums, gradient) = (features, target, lin.baseAddress!, sums.baseAddress!, gradient)
                Parallel.forEachPiece(units, pieces: pieces, maxParts: parts) { part, index, range in
                    let norm = scratch + part * Self.distanceScratchPerWorker
                    let inv = norm + block, kk = inv + block, value = kk + block
                    for unit in range {
                        let s = unit / blocksPerSample
                        let p0 = (unit % blocksPerSample) * block
                        let len = min(block, positions - p0)
                        let column = s * positions + p0
                        for i in 0..<len { norm[i] = 0; value[i] = 0; kk[i] = 0 }
                        for ch in 0..<c {
                            let xr = x + ch * ld + column
                            for i in 0..<len { norm[i] += xr[i] * xr[i] }
                        }
                        for i in 0..<len {
                            norm[i] = norm[i].squareRoot()
                            inv[i] = 1 / (norm[i] + eps)
                        }
                        // Values, and for the gradient sum_c w_c d_c x_c (into kk).
                        for ch in 0..<c {
                            let xr = x + ch * ld + column, tr = t + ch * ld + column
                            let wc = lin[ch]
                            if gradient == nil {
                                for i in 0..<len {
                                    let d = xr[i] * inv[i] - tr[i]
                                    value[i] += wc * d * d
                                }
                            } else {
                                for i in 0..<len {
                                    let d = xr[i] * inv[i] - tr[i]
                                    value[i] += wc * d * d
                                    kk[i] += wc * d * xr[i]
                                }
                            }
                        }
                        var sum: Float = 0
                        for i in 0..<len { sum += value[i] }
                        sums[index * n + s] += Double(sum)
                        guard let gradient else { continue }
                        for i in 0..<len { kk[i] = norm[i] > 0 ? kk[i] * inv[i] / norm[i] : 0 }
                        for ch in 0..<c {
                            let xr = x + ch * ld + column, tr = t + ch * ld + column
                            let gr = gradient + ch * ld + column
                            let wc = lin[ch]
                            for i in 0..<len where norm[i] > 0 {
                                let d = xr[i] * inv[i] - tr[i]
                                gr[i] += a * inv[i] * (wc * d - xr[i] * kk[i])
                            }
                        }
                    }
                }
            }
        }
        var out = [Double](repeating: 0, count: n)
        for piece in 0..<pieces {
            for s in 0..<n { out[s] += partials[piece * n + s] }
        }
        return out.map { $0 / Double(positions) }
    }

    /// out [C, N P] <- x / (sqrt(sum_c x^2) + eps) for x [C, N P] (lpips's `normalize_tensor`).
    static func normalise(
        _ x: UnsafePointer<Float>, channels c: Int, columns: Int, into out: UnsafeMutablePointer<Float>, threads: Int
    ) {
        nonisolated(unsafe) let (x, out) = (x, out)
        Parallel.split(columns, granule: 16, maxParts: c * columns >= 1 << 15 ? threads : 1) { _, range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: distanceBlock) { inv in
                var p0 = range.lowerBound
                while p0 < range.upperBound {
                    let len = min(distanceBlock, range.upperBound - p0)
                    for i in 0..<len { inv[i] = 0 }
                    for ch in 0..<c {
                        let xr = x + ch * columns + p0
                        for i in 0..<len { inv[i] += xr[i] * xr[i] }
                    }
                    for i in 0..<len { inv[i] = 1 / (inv[i].squareRoot() + epsilon) }
                    for ch in 0..<c {
                        let xr = x + ch * columns + p0, o = out + ch * columns + p0
                        for i in 0..<len { o[i] = xr[i] * inv[i] }
                    }
                    p0 += len
                }
            }
        }
    }
}
