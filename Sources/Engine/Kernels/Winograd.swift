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
    public var padScratch: Int { 8 * (width / 2 + 1) }
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
            let dst = v + i * tc + (r - tiles.rows.lowerBound) * tw
            var t = 0
            // Four tiles at a time in SIMD lanes (the pointers may alias as far as the compiler
            // knows, so plain loops stay scalar), then the rest one by one.
            while t + 4 <= tw {
                transformInputTiles(rowE, rowO, at: t, into: dst + t, ldv: ldv, SIMD4<Float>.self)
                t += 4
            }
            while t < tw {
                transformInputTiles(rowE, rowO, at: t, into: dst + t, ldv: ldv, SIMD1.self)
                t += 1
            }
        }
    }
}

/// One Float as a SIMD vector of one lane, so the tile transforms have one body for both widths.
struct SIMD1: SIMDLoadStore {
    var value: Float
    init(load p: UnsafePointer<Float>) { value = p.pointee }
    func store(_ p: UnsafeMutablePointer<Float>) { p.pointee = value }
    func storeInterleaved(with odd: SIMD1, into p: UnsafeMutablePointer<Float>) {
        p[0] = value
        p[1] = odd.value
    }
    static func + (a: SIMD1, b: SIMD1) -> SIMD1 { SIMD1(value: a.value + b.value) }
    static func - (a: SIMD1, b: SIMD1) -> SIMD1 { SIMD1(value: a.value - b.value) }
    init(value: Float) { self.value = value }
}

protocol SIMDLoadStore {
    init(load p: UnsafePointer<Float>)
    func store(_ p: UnsafeMutablePointer<Float>)
    /// Lanes of self and `odd` alternately (self's first).
    func storeInterleaved(with odd: Self, into p: UnsafeMutablePointer<Float>)
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
}

extension SIMD4: SIMDLoadStore where Scalar == Float {
    @inline(__always) init(load p: UnsafePointer<Float>) { self = UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self) }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD4<Float>.self) }
    @inline(__always) func storeInterleaved(with odd: SIMD4<Float>, into p: UnsafeMutablePointer<Float>) {
        SIMD4(self[0], odd[0], self[1], odd[1]).store(p)
        SIMD4(self[2], odd[2], self[3], odd[3]).store(p + 4)
    }
}

/// B^T d B for the tiles t ..< t + lanes of one tile row, from the rows' even / odd columns.
@inline(__always)
private func transformInputTiles<V: SIMDLoadStore>(
    _ rowE: [UnsafeMutablePointer<Float>], _ rowO: [UnsafeMutablePointer<Float>], at t: Int,
    into dst: UnsafeMutablePointer<Float>, ldv: Int, _: V.Type
) {
    // Tile columns 0-3 of input row a: E[t], O[t], E[t + 1], O[t + 1].
    @inline(__always) func col(_ a: Int) -> (V, V, V, V) {
        (V(load: rowE[a] + t), V(load: rowO[a] + t), V(load: rowE[a] + t + 1), V(load: rowO[a] + t + 1))
    }
    let r0 = col(0), r1 = col(1), r2 = col(2), r3 = col(3)
    // B^T over the rows: k0 = r0 - r2, k1 = r1 + r2, k2 = r2 - r1, k3 = r1 - r3; then B over the columns.
    @inline(__always) func emit(_ k: Int, _ c0: V, _ c1: V, _ c2: V, _ c3: V) {
        let d = dst + 4 * k * ldv
        (c0 - c2).store(d)
        (c1 + c2).store(d + ldv)
        (c2 - c1).store(d + 2 * ldv)
        (c1 - c3).store(d + 3 * ldv)
    }
    emit(0, r0.0 - r2.0, r0.1 - r2.1, r0.2 - r2.2, r0.3 - r2.3)
    emit(1, r1.0 + r2.0, r1.1 + r2.1, r1.2 + r2.2, r1.3 + r2.3)
    emit(2, r2.0 - r1.0, r2.1 - r1.1, r2.2 - r1.2, r2.3 - r1.3)
    emit(3, r1.0 - r3.0, r1.1 - r3.1, r1.2 - r3.2, r1.3 - r3.3)
}

/// y [O, N, H, W] (the rows of `tiles` only) <- A^T M A for output channels `channelRange` of
/// m [16, O, T] (position xi at xi * ldm).
public func winogradOutputTransform(
    _ m: UnsafePointer<Float>, channels co: Int, channelRange: Range<Int>, tiles: WinogradTiles, ldm: Int,
    into y: UnsafeMutablePointer<Float>
) {
    let h = tiles.height, w = tiles.width, n = tiles.batch
    let th = h / 2, tw = tiles.tilesPerRow, tc = tiles.count
    for o in channelRange {
        for r in tiles.rows {
            let smp = r / th, ty = r % th
            let src = m + o * tc + (r - tiles.rows.lowerBound) * tw
            let out = y + (o * n + smp) * h * w + 2 * ty * w
            var t = 0
            while t + 4 <= tw {
                transformOutputTiles(src + t, ldm: ldm, into: out + 2 * t, width: w, SIMD4<Float>.self)
                t += 4
            }
            while t < tw {
                transformOutputTiles(src + t, ldm: ldm, into: out + 2 * t, width: w, SIMD1.self)
                t += 1
            }
        }
    }
}

/// A^T M A for `lanes` consecutive tiles: their 2x2 outputs at out (row 0) and out + width (row 1).
@inline(__always)
private func transformOutputTiles<V: SIMDLoadStore>(
    _ src: UnsafePointer<Float>, ldm: Int, into out: UnsafeMutablePointer<Float>, width w: Int, _: V.Type
) {
    @inline(__always) func m(_ xi: Int) -> V { V(load: src + xi * ldm) }
    // A^T over the rows of M (row 0: m0 + m1 + m2, row 1: m1 - m2 - m3), per column b ...
    let a0 = m(0) + m(4) + m(8), a1 = m(1) + m(5) + m(9), a2 = m(2) + m(6) + m(10), a3 = m(3) + m(7) + m(11)
    let b0 = m(4) - m(8) - m(12), b1 = m(5) - m(9) - m(13), b2 = m(6) - m(10) - m(14), b3 = m(7) - m(11) - m(15)
    // ... then A over the columns, interleaved into the two output rows.
    (a0 + a1 + a2).storeInterleaved(with: a1 - a2 - a3, into: out)
    (b0 + b1 + b2).storeInterleaved(with: b1 - b2 - b3, into: out + w)
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
    winogradOutputTransform(m, channels: co, channelRange: 0..<co, tiles: tiles, ldm: ldm, into: y)
}

/// Floats `winogradConv3x3` needs in each of `v` and `m` for `rows` channels (the larger of I and O)
/// and `tiles` tiles.
public func winogradScratch(rows: Int, tiles: Int) -> Int {
    winogradPositions * winogradPositionStride(rows: rows, tiles: tiles)
}
