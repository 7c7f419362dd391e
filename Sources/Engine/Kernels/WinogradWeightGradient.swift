// The weight gradient of the Winograd F(4x4, 3x3) correlation (Winograd.swift), in the transformed
// domain. Per output tile the forward is Y = A^T (sum_i U_i ⊙ V_i) A with U = G g G^T; each step is
// linear, so its adjoint carries the gradient back:
//   dM = A dY A^T                         (each 4x4 tile of the output's gradient, to 6x6)
//   dU[xi][o, i] = sum_t dM[xi][o, t] V[xi][i, t]     (36 GEMMs, O x I x T)
//   dg = G^T dU G                          (each (o, i) back to 3x3)
// Exact in real arithmetic. The 36 GEMMs make 36 multiply-adds per 16 output pixels and channel
// pair where im2col + GEMM makes 9 per pixel: a quarter. The reference is the direct sum
// dg[o, i, ky, kx] = sum over samples and pixels of dY[o] times the input shifted by (ky - 1, kx - 1).

/// dm [36, O, T] <- A dY A^T for every 4x4 tile in `tiles` of gy [O, N, H, W] (T = tiles.count;
/// position xi at xi * ldm, channel o's tiles at o * T).
public func winogradOutputGradientTransform(
    _ gy: UnsafePointer<Float>, channels co: Int, tiles: WinogradTiles, into dm: UnsafeMutablePointer<Float>, ldm: Int
) {
    let h = tiles.height, w = tiles.width, n = tiles.batch
    let th = h / 4, tw = tiles.tilesPerRow, tc = tiles.count
    for o in 0..<co {
        for r in tiles.rows {
            let smp = r / th, ty = r % th
            let src = gy + (o * n + smp) * h * w + 4 * ty * w
            let dst = dm + o * tc + (r - tiles.rows.lowerBound) * tw
            var t = 0
            while t + 4 <= tw {
                transformOutputGradientTiles(src + 4 * t, width: w, into: dst + t, ldm: ldm, SIMD4<Float>.self)
                t += 4
            }
            while t < tw {
                transformOutputGradientTiles(src + 4 * t, width: w, into: dst + t, ldm: ldm, SIMD1.self)
                t += 1
            }
        }
    }
}

/// A applied to four values: the adjoint of the output transform's A^T (rows 1 1 1 1 1 0,
/// 0 1 -1 2 -2 0, 0 1 1 4 4 0, 0 1 -1 8 -8 1).
@inline(__always)
private func outputGradientCombinations<V: WinogradLanes>(_ y0: V, _ y1: V, _ y2: V, _ y3: V) -> (V, V, V, V, V, V) {
    let s02 = y0 + y2, s13 = y1 + y3
    let q = y0 + 4 * y2, r = 2 * y1 + 8 * y3
    return (y0, s02 + s13, s02 - s13, q + r, q - r, y3)
}

/// A dY A^T for `lanes` consecutive tiles whose 4x4 gradients start at src, src + width, ... (rows 0-3).
@inline(__always)
private func transformOutputGradientTiles<V: WinogradLanes>(
    _ src: UnsafePointer<Float>, width w: Int, into dst: UnsafeMutablePointer<Float>, ldm: Int, _: V.Type
) {
    // A along every row (the row's columns c0 ... c3 of each lane's tile) ...
    @inline(__always) func row(_ k: Int) -> (V, V, V, V, V, V) {
        let c = V.loadTransposed(src + k * w)
        return outputGradientCombinations(c.0, c.1, c.2, c.3)
    }
    let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3)
    // ... then A down every resulting column b: position 6 a + b.
    @inline(__always) func emit(_ b: Int, _ c: (V, V, V, V, V, V)) {
        c.0.store(dst + b * ldm)
        c.1.store(dst + (6 + b) * ldm)
        c.2.store(dst + (12 + b) * ldm)
        c.3.store(dst + (18 + b) * ldm)
        c.4.store(dst + (24 + b) * ldm)
        c.5.store(dst + (30 + b) * ldm)
    }
    emit(0, outputGradientCombinations(r0.0, r1.0, r2.0, r3.0))
    emit(1, outputGradientCombinations(r0.1, r1.1, r2.1, r3.1))
    emit(2, outputGradientCombinations(r0.2, r1.2, r2.2, r3.2))
    emit(3, outputGradientCombinations(r0.3, r1.3, r2.3, r3.3))
    emit(4, outputGradientCombinations(r0.4, r1.4, r2.4, r3.4))
    emit(5, outputGradientCombinations(r0.5, r1.5, r2.5, r3.5))
}

/// du[xi] [O, I] += dm[xi] [O, T] x v[xi]ᵀ [T, I] for the positions `positions` (du's positions ldu
/// apart, v's ldv, dm's ldm).
public func winogradWeightGradientMultiply(
    _ dm: UnsafePointer<Float>, ldm: Int, _ v: UnsafePointer<Float>, ldv: Int, outChannels co: Int, inChannels ci: Int, tiles tc: Int,
    positions: Range<Int> = 0..<winogradPositions, into du: UnsafeMutablePointer<Float>, ldu: Int
) {
    for xi in positions {
        BLAS.sgemm(transB: true, m: co, n: ci, k: tc, a: dm + xi * ldm, lda: tc, b: v + xi * ldv, ldb: tc, beta: 1, c: du + xi * ldu, ldc: ci)
    }
}

/// dw [O, I, 3, 3] += G^T dU G for the output channels `outputs` and every input channel, from
/// du [36, O, I] (positions ldu apart): the adjoint of `winogradWeightTransform3x3`.
public func winogradWeightGradientTransform3x3(
    _ du: UnsafePointer<Float>, ldu: Int, outChannels co: Int, inChannels ci: Int, outputs: Range<Int>,
    into dw: UnsafeMutablePointer<Float>
) {
    // G^T applied to six values (G's rows 1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6;
    // 1/24 -1/12 1/6; 0 0 1).
    @inline(__always) func gt(_ u0: Float, _ u1: Float, _ u2: Float, _ u3: Float, _ u4: Float, _ u5: Float) -> (Float, Float, Float) {
        let s12 = u1 + u2, s34 = u3 + u4
        return (u0 / 4 - s12 / 6 + s34 / 24, (u2 - u1) / 6 + (u3 - u4) / 12, (s34 - s12) / 6 + u5)
    }
    precondition(outputs.lowerBound >= 0 && outputs.upperBound <= co)
    for o in outputs {
        for i in 0..<ci {
            let u = du + o * ci + i
            // G^T along every row a of dU: p_a = (row a) G.
            @inline(__always) func rowTimesG(_ a: Int) -> (Float, Float, Float) {
                let r = u + 6 * a * ldu
                return gt(r[0], r[ldu], r[2 * ldu], r[3 * ldu], r[4 * ldu], r[5 * ldu])
            }
            let p0 = rowTimesG(0), p1 = rowTimesG(1), p2 = rowTimesG(2), p3 = rowTimesG(3), p4 = rowTimesG(4), p5 = rowTimesG(5)
            // ... then G^T down every column kx.
            let k0 = gt(p0.0, p1.0, p2.0, p3.0, p4.0, p5.0)
            let k1 = gt(p0.1, p1.1, p2.1, p3.1, p4.1, p5.1)
            let k2 = gt(p0.2, p1.2, p2.2, p3.2, p4.2, p5.2)
            let g = dw + (o * ci + i) * 9
            g[0] += k0.0; g[1] += k1.0; g[2] += k2.0
            g[3] += k0.1; g[4] += k1.1; g[5] += k2.1
            g[6] += k0.2; g[7] += k1.2; g[8] += k2.2
        }
    }
}
