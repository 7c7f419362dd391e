// Winograd F(2x2, 3x3) for the plain 3x3 convolutions (stride 1, padding 1) over channel-major
// batches [C, N, H, W] with even H and W.
//
// The output is cut into 2x2 tiles; each reads a 4x4 input tile. With the transforms
//   V = B^T d B (input tile d), U = G g G^T (3x3 kernel g), Y = A^T M A (output tile),
//   M[xi] = sum_i U[xi][o, i] V[xi][i, t]   for each of the 16 positions xi of the 4x4 tile,
// the 9 multiply-adds per output pixel and input channel become 4 (16 per 4 pixels), and the
// channel sums are 16 GEMMs. Tiles are counted along "tile rows": tile row r of a batch is sample
// r / (H/2), output rows 2 (r % (H/2)) and the one below; it holds W/2 tiles.
//
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   A^T = [1 1 1 0; 0 1 -1 -1]
//
// The reference is the direct correlation (im2col3x3 + sgemm, and the naive loop in the tests).

/// Positions of a transformed 4x4 tile.
public let winogradPositions = 16

/// u [16, O, I] <- G g G^T for every (o, i) of w [O, I, 3, 3].
public func winogradWeightTransform3x3(
    _ w: UnsafePointer<Float>, outChannels co: Int, inChannels ci: Int, into u: UnsafeMutablePointer<Float>
) {
    for o in 0..<co {
        for i in 0..<ci {
            let g = w + (o * ci + i) * 9
            // G g: [4, 3] (row a of G applied to every column of g).
            var gg = (
                (g[0], g[1], g[2]),
                (0.5 * (g[0] + g[3] + g[6]), 0.5 * (g[1] + g[4] + g[7]), 0.5 * (g[2] + g[5] + g[8])),
                (0.5 * (g[0] - g[3] + g[6]), 0.5 * (g[1] - g[4] + g[7]), 0.5 * (g[2] - g[5] + g[8])),
                (g[6], g[7], g[8])
            )
            // (G g) G^T: [4, 4].
            withUnsafeBytes(of: &gg) { raw in
                let r = raw.bindMemory(to: Float.self)
                for a in 0..<4 {
                    let r0 = r[a * 3], r1 = r[a * 3 + 1], r2 = r[a * 3 + 2]
                    let dst = u + (a * 4 * co + o) * ci + i
                    dst[0] = r0
                    dst[co * ci] = 0.5 * (r0 + r1 + r2)
                    dst[2 * co * ci] = 0.5 * (r0 - r1 + r2)
                    dst[3 * co * ci] = r2
                }
            }
        }
    }
}

/// The tile-row geometry of one Winograd call: tile rows `rows` of a [C, N, H, W] batch.
public struct WinogradTiles: Sendable {
    public let batch: Int
    public let height: Int
    public let width: Int
    public let rows: Range<Int>

    public init(batch: Int, height: Int, width: Int, rows: Range<Int>) {
        precondition(height % 2 == 0 && width % 2 == 0, "Winograd F(2x2, 3x3) needs an even grid, got \(height)x\(width)")
        self.batch = batch
        self.height = height
        self.width = width
        self.rows = rows
    }

    /// Tile rows of the whole batch.
    public var totalRows: Int { batch * height / 2 }
    public var tilesPerRow: Int { width / 2 }
    /// Tiles in `rows`: the column count of the transformed matrices.
    public var count: Int { rows.count * tilesPerRow }
    /// Floats of scratch `winogradInputTransform` needs.
    public var padScratch: Int { 16 * (width / 2 + 1) }
}

/// v [16, C, T] <- B^T d B for every tile of `tiles` (T = tiles.count) and channel of x [C, N, H, W],
/// each (channel, sample) plane scaled by scales [N, C] when given. Position xi starts at
/// xi * ldv (ldv >= C T). `pad` holds `tiles.padScratch` floats.
public func winogradInputTransform(
    _ x: UnsafePointer<Float>, channels ci: Int, channelRange: Range<Int>? = nil, scales: UnsafePointer<Float>?,
    tiles: WinogradTiles, into v: UnsafeMutablePointer<Float>, ldv: Int, pad: UnsafeMutablePointer<Float>
) {
    let h = tiles.height, w = tiles.width, n = tiles.batch
    let th = h / 2, tw = tiles.tilesPerRow, tc = tiles.count
    // Each input row is kept as its even and odd padded columns (E[j] = x[2j - 1], O[j] = x[2j]),
    // so that a tile's four columns are E[t], O[t], E[t + 1], O[t + 1]: contiguous loads over t.
    let half = tw + 1
    let rowE = (0..<4).map { pad + $0 * 2 * half }
    let rowO = (0..<4).map { pad + $0 * 2 * half + half }
    // B^T over the rows (combinations k of rows 0-3), then B over the columns.
    let comb = pad + 8 * half  // [4 k, E/O, half]
    for i in channelRange ?? 0..<ci {
        for r in tiles.rows {
            let smp = r / th, ty = r % th
            let scale = scales.map { $0[smp * ci + i] } ?? 1
            let src = x + (i * n + smp) * h * w
            for a in 0..<4 {
                let e = rowE[a], o = rowO[a]
                let y = 2 * ty - 1 + a
                if y < 0 || y >= h {
                    e.update(repeating: 0, count: half)
                    o.update(repeating: 0, count: half)
                    continue
                }
                let s = src + y * w
                e[0] = 0
                o[tw] = 0
                for j in 0..<tw {
                    o[j] = s[2 * j] * scale
                    e[j + 1] = s[2 * j + 1] * scale
                }
            }
            for k in 0..<4 {
                let ce = comb + k * 2 * half, co = ce + half
                // Rows: k0 = r0 - r2, k1 = r1 + r2, k2 = r2 - r1, k3 = r1 - r3.
                let (pe, qe, pe2, po, qo): (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Float, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)
                switch k {
                case 0: (pe, qe, pe2, po, qo) = (rowE[0], rowE[2], -1, rowO[0], rowO[2])
                case 1: (pe, qe, pe2, po, qo) = (rowE[1], rowE[2], 1, rowO[1], rowO[2])
                case 2: (pe, qe, pe2, po, qo) = (rowE[2], rowE[1], -1, rowO[2], rowO[1])
                default: (pe, qe, pe2, po, qo) = (rowE[1], rowE[3], -1, rowO[1], rowO[3])
                }
                if pe2 > 0 {
                    for j in 0..<half { ce[j] = pe[j] + qe[j]; co[j] = po[j] + qo[j] }
                } else {
                    for j in 0..<half { ce[j] = pe[j] - qe[j]; co[j] = po[j] - qo[j] }
                }
                let dst = v + k * 4 * ldv + i * tc + (r - tiles.rows.lowerBound) * tw
                let d0 = dst, d1 = dst + ldv, d2 = dst + 2 * ldv, d3 = dst + 3 * ldv
                for t in 0..<tw {
                    let e0 = ce[t], o0 = co[t], e1 = ce[t + 1], o1 = co[t + 1]
                    d0[t] = e0 - e1
                    d1[t] = o0 + e1
                    d2[t] = e1 - o0
                    d3[t] = o0 - o1
                }
            }
        }
    }
}

/// y [O, N, H, W] (the rows of `tiles` only) <- A^T M A for output channels `channelRange` of
/// m [16, O, T] (position xi at xi * ldm). `pad` holds `tiles.padScratch` floats.
public func winogradOutputTransform(
    _ m: UnsafePointer<Float>, channels co: Int, channelRange: Range<Int>, tiles: WinogradTiles, ldm: Int,
    into y: UnsafeMutablePointer<Float>, pad: UnsafeMutablePointer<Float>
) {
    let h = tiles.height, w = tiles.width, n = tiles.batch
    let th = h / 2, tw = tiles.tilesPerRow, tc = tiles.count
    let z = (0..<4).map { pad + $0 * tw }  // A^T over the rows, per column b: [4 b, tw] for one output row
    for o in channelRange {
        for r in tiles.rows {
            let smp = r / th, ty = r % th
            let src = m + o * tc + (r - tiles.rows.lowerBound) * tw
            let out = y + (o * n + smp) * h * w + 2 * ty * w
            for row in 0..<2 {
                // Output row 0: m0 + m1 + m2 (rows of M); row 1: m1 - m2 - m3.
                for b in 0..<4 {
                    let s0 = src + b * ldm, s1 = src + (4 + b) * ldm, s2 = src + (8 + b) * ldm, s3 = src + (12 + b) * ldm
                    let zb = z[b]
                    if row == 0 {
                        for t in 0..<tw { zb[t] = s0[t] + s1[t] + s2[t] }
                    } else {
                        for t in 0..<tw { zb[t] = s1[t] - s2[t] - s3[t] }
                    }
                }
                let dst = out + row * w
                let z0 = z[0], z1 = z[1], z2 = z[2], z3 = z[3]
                for t in 0..<tw {
                    dst[2 * t] = z0[t] + z1[t] + z2[t]
                    dst[2 * t + 1] = z1[t] - z2[t] - z3[t]
                }
            }
        }
    }
}

/// The 16 products M[xi] [O, T] = U[xi] [O, I] x V[xi] [I, T] (positions ldv and ldm apart).
public func winogradMultiply(
    _ u: UnsafePointer<Float>, _ v: UnsafePointer<Float>, ldv: Int, outChannels co: Int, inChannels ci: Int, tiles tc: Int,
    into m: UnsafeMutablePointer<Float>, ldm: Int
) {
    for xi in 0..<winogradPositions {
        BLAS.sgemm(m: co, n: tc, k: ci, a: u + xi * co * ci, lda: ci, b: v + xi * ldv, ldb: tc, c: m + xi * ldm, ldc: tc)
    }
}

/// Floats between the positions of a transformed operand of `rows` channels and `tiles` tiles:
/// padded off a multiple of 4 KiB, so the 16 streams a transform writes do not share cache sets.
public func winogradPositionStride(rows: Int, tiles: Int) -> Int {
    let floats = rows * tiles
    return (floats + 15) / 16 * 16 + 16 * ((floats / 1024) % 2 == 0 ? 1 : 2)
}

/// y [O, N, H, W] (rows of `tiles`) = the 3x3 correlation, padding 1, of x [I, N, H, W] (scaled by
/// scales [N, I] when given) with the kernel whose transform is u [16, O, I]: the three steps in
/// one call. `v` and `m` hold `winogradScratch` floats each, `pad` `tiles.padScratch`.
public func winogradConv3x3(
    _ x: UnsafePointer<Float>, inChannels ci: Int, scales: UnsafePointer<Float>?, weights u: UnsafePointer<Float>, outChannels co: Int,
    tiles: WinogradTiles, into y: UnsafeMutablePointer<Float>,
    v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, pad: UnsafeMutablePointer<Float>
) {
    let ldv = winogradPositionStride(rows: ci, tiles: tiles.count)
    let ldm = winogradPositionStride(rows: co, tiles: tiles.count)
    winogradInputTransform(x, channels: ci, scales: scales, tiles: tiles, into: v, ldv: ldv, pad: pad)
    winogradMultiply(u, v, ldv: ldv, outChannels: co, inChannels: ci, tiles: tiles.count, into: m, ldm: ldm)
    winogradOutputTransform(m, channels: co, channelRange: 0..<co, tiles: tiles, ldm: ldm, into: y, pad: pad)
}

/// Floats `winogradConv3x3` needs in each of `v` and `m` for `rows` channels (the larger of I and O)
/// and `tiles` tiles.
public func winogradScratch(rows: Int, tiles: Int) -> Int {
    winogradPositions * winogradPositionStride(rows: rows, tiles: tiles)
}
