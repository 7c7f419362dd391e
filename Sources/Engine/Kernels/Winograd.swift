// Winograd F(4x4, 3x3) for the plain 3x3 convolutions (stride 1, padding 1) over channel-major
// batches [C, N, H, W] with H and W multiples of 4.
//
// The output is cut into 4x4 tiles; each reads a 6x6 input tile. With the transforms
//   V = B^T d B (input tile d), U = G g G^T (3x3 kernel g), Y = A^T M A (output tile),
//   M[xi] = sum_i U[xi][o, i] V[xi][i, t]   for each of the 36 positions xi of the 6x6 tile,
// the 9 multiply-adds per output pixel and input channel become 2.25 (36 per 16 pixels), and the
// channel sums are 36 GEMMs. Tiles are counted along "tile rows": tile row r of a batch is sample
// r / (H/4), output rows 4 (r % (H/4)) ... + 3; it holds W/4 tiles. (Lavin & Gray, 2016; points
// 0, +-1, +-2. In float32 it stays within a few 1e-7 of the largest output, see the kernel tests.)
//
//   B^T = [4  0 -5  0 1 0;  0 -4 -4  1 1 0;  0 4 -4 -1 1 0;  0 -2 -1 2 1 0;  0 2 -1 -2 1 0;  0 4 0 -5 0 1]
//   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T = [1 1 1 1 1 0;  0 1 -1 2 -2 0;  0 1 1 4 4 0;  0 1 -1 8 -8 1]
//
// The reference is the direct correlation (im2col3x3 + sgemm, and the naive loop in the tests).

/// Output pixels along each side of a tile.
public let winogradTileSize = 4
/// Positions of a transformed 6x6 tile.
public let winogradPositions = 36

/// u [36, O, I] <- G g G^T for every (o, i) of w [O, I, 3, 3].
///
/// Eight input channels at a time in SIMD lanes, into a small block of all 36 positions that is then
/// copied out position by position: u's positions lie O·I floats apart (64 KB for 128 channels), and
/// writing one float to each of the 36 in turn thrashed the cache (a fifth of a tuning step). The same
/// operations in the same order as one kernel at a time, so the same bits.
public func winogradWeightTransform3x3(
    _ w: UnsafePointer<Float>, outChannels co: Int, inChannels ci: Int, into u: UnsafeMutablePointer<Float>
) {
    typealias V = SIMD8<Float>
    // G applied to three values.
    @inline(__always) func g6(_ a: V, _ b: V, _ c: V) -> (V, V, V, V, V, V) {
        (a / 4, -(a + b + c) / 6, -(a - b + c) / 6, a / 24 + b / 12 + c / 6, a / 24 - b / 12 + c / 6, c)
    }
    let step = co * ci
    // Input channels a block holds: 36 x 64 floats (9 KB) stay in L1, and each position's copy is a
    // run of 256 bytes.
    let block = 64
    withUnsafeTemporaryAllocation(of: Float.self, capacity: winogradPositions * block) { local in
        let t = local.baseAddress!  // [36, block]
        for o in 0..<co {
            for i0 in stride(from: 0, to: ci, by: block) {
                let n = min(block, ci - i0)
                for j in stride(from: 0, to: n, by: 8) {
                    let lanes = min(8, n - j)
                    let g = w + (o * ci + i0 + j) * 9  // lanes kernels of 9
                    // Value k of each lane's kernel; lanes past the channels are 0 and never copied.
                    @inline(__always) func load(_ k: Int) -> V {
                        if lanes == 8 { return V(g[k], g[9 + k], g[18 + k], g[27 + k], g[36 + k], g[45 + k], g[54 + k], g[63 + k]) }
                        var v = V()
                        for l in 0..<lanes { v[l] = g[l * 9 + k] }
                        return v
                    }
                    // G g: [6, 3] (G down each column of g).
                    let c0 = g6(load(0), load(3), load(6)), c1 = g6(load(1), load(4), load(7)), c2 = g6(load(2), load(5), load(8))
                    // (G g) G^T: [6, 6], row a at t[(a * 6 + b) * block + j].
                    @inline(__always) func row(_ a: Int, _ r0: V, _ r1: V, _ r2: V) {
                        let v = g6(r0, r1, r2)
                        let dst = UnsafeMutableRawPointer(t + a * 6 * block + j)
                        let stride = block * MemoryLayout<Float>.stride
                        dst.storeBytes(of: v.0, as: V.self)
                        dst.storeBytes(of: v.1, toByteOffset: stride, as: V.self)
                        dst.storeBytes(of: v.2, toByteOffset: 2 * stride, as: V.self)
                        dst.storeBytes(of: v.3, toByteOffset: 3 * stride, as: V.self)
                        dst.storeBytes(of: v.4, toByteOffset: 4 * stride, as: V.self)
                        dst.storeBytes(of: v.5, toByteOffset: 5 * stride, as: V.self)
                    }
                    row(0, c0.0, c1.0, c2.0)
                    row(1, c0.1, c1.1, c2.1)
                    row(2, c0.2, c1.2, c2.2)
                    row(3, c0.3, c1.3, c2.3)
                    row(4, c0.4, c1.4, c2.4)
                    row(5, c0.5, c1.5, c2.5)
                }
                for xi in 0..<winogradPositions {
                    (u + xi * step + o * ci + i0).update(from: t + xi * block, count: n)
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
        precondition(
            height % winogradTileSize == 0 && width % winogradTileSize == 0,
            "Winograd F(4x4, 3x3) needs a grid in multiples of 4, got \(height)x\(width)")
        self.batch = batch
        self.height = height
        self.width = width
        self.rows = rows
    }

    public var tilesPerRow: Int { width / winogradTileSize }
    /// Tiles in `rows`: the column count of the transformed matrices.
    public var count: Int { rows.count * tilesPerRow }
    /// Floats of scratch `winogradInputTransform` needs.
    public var padScratch: Int { Self.padScratch(width: width) }
    /// The same for any call on a grid `width` wide: six input rows, each as four column phases.
    public static func padScratch(width: Int) -> Int { 6 * 4 * (width / winogradTileSize + 1) }
}

/// v [36, C, T] <- B^T d B for every tile of `tiles` (T = tiles.count) and channel of x [C, N, H, W],
/// each (channel, sample) plane scaled by scales [N, C] when given. Position xi starts at
/// xi * ldv (ldv >= C T). `pad` holds `tiles.padScratch` floats.
public func winogradInputTransform(
    _ x: UnsafePointer<Float>, channels ci: Int, scales: UnsafePointer<Float>?,
    tiles: WinogradTiles, into v: UnsafeMutablePointer<Float>, ldv: Int, pad: UnsafeMutablePointer<Float>
) {
    let h = tiles.height, w = tiles.width, n = tiles.batch
    let th = h / 4, tw = tiles.tilesPerRow, tc = tiles.count
    // Each input row is kept as its four column phases of the zero-padded row p (p[c] = x[c - 1]):
    // phase k holds p[4 j + k], so a tile's six columns are P0[t] P1[t] P2[t] P3[t] P0[t+1] P1[t+1],
    // contiguous loads over t.
    let len = tw + 1
    for i in 0..<ci {
        for r in tiles.rows {
            let smp = r / th, ty = r % th
            let scale = scales.map { $0[smp * ci + i] } ?? 1
            let src = x + (i * n + smp) * h * w
            for a in 0..<6 {
                let row = pad + a * 4 * len
                let y = 4 * ty - 1 + a
                if y < 0 || y >= h {
                    row.update(repeating: 0, count: 4 * len)
                    continue
                }
                let s = src + y * w
                let p0 = row, p1 = row + len, p2 = row + 2 * len, p3 = row + 3 * len
                p0[0] = 0
                var j = 0
                // Four tiles' columns at a time: a 4 x 4 transpose of 16 consecutive floats.
                let scale4 = SIMD4<Float>(repeating: scale)
                while j + 4 <= tw {
                    let a0 = SIMD4<Float>(load: s + 4 * j), a1 = SIMD4<Float>(load: s + 4 * j + 4)
                    let a2 = SIMD4<Float>(load: s + 4 * j + 8), a3 = SIMD4<Float>(load: s + 4 * j + 12)
                    let e01 = SIMD8(lowHalf: a0, highHalf: a1).evenHalf, o01 = SIMD8(lowHalf: a0, highHalf: a1).oddHalf
                    let e23 = SIMD8(lowHalf: a2, highHalf: a3).evenHalf, o23 = SIMD8(lowHalf: a2, highHalf: a3).oddHalf
                    let even = SIMD8(lowHalf: e01, highHalf: e23), odd = SIMD8(lowHalf: o01, highHalf: o23)
                    (scale4 * even.evenHalf).store(p1 + j)
                    (scale4 * odd.evenHalf).store(p2 + j)
                    (scale4 * even.oddHalf).store(p3 + j)
                    (scale4 * odd.oddHalf).store(p0 + j + 1)
                    j += 4
                }
                while j < tw {
                    p1[j] = s[4 * j] * scale
                    p2[j] = s[4 * j + 1] * scale
                    p3[j] = s[4 * j + 2] * scale
                    p0[j + 1] = s[4 * j + 3] * scale
                    j += 1
                }
                p1[tw] = 0
                p2[tw] = 0
                p3[tw] = 0
            }
            let dst = v + i * tc + (r - tiles.rows.lowerBound) * tw
            var t = 0
            // Four tiles at a time in SIMD lanes (the pointers may alias as far as the compiler
            // knows, so plain loops stay scalar), then the rest one by one.
            while t + 4 <= tw {
                transformInputTiles(pad, phaseLength: len, at: t, into: dst + t, ldv: ldv, SIMD4<Float>.self)
                t += 4
            }
            while t < tw {
                transformInputTiles(pad, phaseLength: len, at: t, into: dst + t, ldv: ldv, SIMD1.self)
                t += 1
            }
        }
    }
}

/// One Float as a SIMD vector of one lane, so the tile transforms have one body for both widths.
struct SIMD1: WinogradLanes {
    var value: Float
    init(_ value: Float) { self.value = value }
    init(load p: UnsafePointer<Float>) { value = p.pointee }
    func store(_ p: UnsafeMutablePointer<Float>) { p.pointee = value }
    static func storeTransposed(_ c0: SIMD1, _ c1: SIMD1, _ c2: SIMD1, _ c3: SIMD1, into p: UnsafeMutablePointer<Float>) {
        p[0] = c0.value
        p[1] = c1.value
        p[2] = c2.value
        p[3] = c3.value
    }
    static func loadTransposed(_ p: UnsafePointer<Float>) -> (SIMD1, SIMD1, SIMD1, SIMD1) {
        (SIMD1(p[0]), SIMD1(p[1]), SIMD1(p[2]), SIMD1(p[3]))
    }
    static func + (a: SIMD1, b: SIMD1) -> SIMD1 { SIMD1(a.value + b.value) }
    static func - (a: SIMD1, b: SIMD1) -> SIMD1 { SIMD1(a.value - b.value) }
    static func * (a: Float, b: SIMD1) -> SIMD1 { SIMD1(a * b.value) }
}

/// What the tile transforms need of a vector of tiles.
protocol WinogradLanes {
    init(load p: UnsafePointer<Float>)
    func store(_ p: UnsafeMutablePointer<Float>)
    /// The four output columns c0 ... c3 of each lane's tile, tile after tile: c0[0] c1[0] c2[0] c3[0] c0[1] ...
    static func storeTransposed(_ c0: Self, _ c1: Self, _ c2: Self, _ c3: Self, into p: UnsafeMutablePointer<Float>)
    /// What `storeTransposed` wrote: the four columns of each lane's tile, read tile after tile.
    static func loadTransposed(_ p: UnsafePointer<Float>) -> (Self, Self, Self, Self)
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Float, b: Self) -> Self
}

extension SIMD4: WinogradLanes where Scalar == Float {
    @inline(__always) init(load p: UnsafePointer<Float>) { self = UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self) }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD4<Float>.self) }
    @inline(__always)
    static func storeTransposed(_ c0: SIMD4<Float>, _ c1: SIMD4<Float>, _ c2: SIMD4<Float>, _ c3: SIMD4<Float>, into p: UnsafeMutablePointer<Float>) {
        SIMD4(c0[0], c1[0], c2[0], c3[0]).store(p)
        SIMD4(c0[1], c1[1], c2[1], c3[1]).store(p + 4)
        SIMD4(c0[2], c1[2], c2[2], c3[2]).store(p + 8)
        SIMD4(c0[3], c1[3], c2[3], c3[3]).store(p + 12)
    }
    @inline(__always)
    static func loadTransposed(_ p: UnsafePointer<Float>) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
        let a0 = SIMD4<Float>(load: p), a1 = SIMD4<Float>(load: p + 4), a2 = SIMD4<Float>(load: p + 8), a3 = SIMD4<Float>(load: p + 12)
        return (SIMD4(a0[0], a1[0], a2[0], a3[0]), SIMD4(a0[1], a1[1], a2[1], a3[1]), SIMD4(a0[2], a1[2], a2[2], a3[2]), SIMD4(a0[3], a1[3], a2[3], a3[3]))
    }
}

/// B^T applied to six values (one column or row of a tile).
@inline(__always)
private func inputCombinations<V: WinogradLanes>(_ d0: V, _ d1: V, _ d2: V, _ d3: V, _ d4: V, _ d5: V) -> (V, V, V, V, V, V) {
    let d34 = d3 + d4
    return (
        4 * d0 - 5 * d2 + d4,
        d34 - 4 * (d1 + d2),
        4 * (d1 - d2) + (d4 - d3),
        2 * (d3 - d1) + (d4 - d2),
        2 * (d1 - d3) + (d4 - d2),
        4 * d1 - 5 * d3 + d5
    )
}

/// B^T d B for the tiles t ..< t + lanes of one tile row, from the six rows' column phases.
@inline(__always)
private func transformInputTiles<V: WinogradLanes>(
    _ pad: UnsafePointer<Float>, phaseLength len: Int, at t: Int, into dst: UnsafeMutablePointer<Float>, ldv: Int, _: V.Type
) {
    // Column b of the tile, for input rows 0-5 (row a's phase k starts at (4 a + k) len).
    @inline(__always) func column(_ b: Int) -> (V, V, V, V, V, V) {
        let p = pad + (b & 3) * len + t + (b >> 2)
        let row = 4 * len
        return (V(load: p), V(load: p + row), V(load: p + 2 * row), V(load: p + 3 * row), V(load: p + 4 * row), V(load: p + 5 * row))
    }
    // B^T down every column (the rows' combinations) ...
    let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3), c4 = column(4), c5 = column(5)
    let k0 = inputCombinations(c0.0, c0.1, c0.2, c0.3, c0.4, c0.5)
    let k1 = inputCombinations(c1.0, c1.1, c1.2, c1.3, c1.4, c1.5)
    let k2 = inputCombinations(c2.0, c2.1, c2.2, c2.3, c2.4, c2.5)
    let k3 = inputCombinations(c3.0, c3.1, c3.2, c3.3, c3.4, c3.5)
    let k4 = inputCombinations(c4.0, c4.1, c4.2, c4.3, c4.4, c4.5)
    let k5 = inputCombinations(c5.0, c5.1, c5.2, c5.3, c5.4, c5.5)
    // ... then B along every resulting row: row a of the result is (k0.a, k1.a, ..., k5.a).
    @inline(__always) func emit(_ a: Int, _ r: (V, V, V, V, V, V)) {
        let d = dst + 6 * a * ldv
        r.0.store(d)
        r.1.store(d + ldv)
        r.2.store(d + 2 * ldv)
        r.3.store(d + 3 * ldv)
        r.4.store(d + 4 * ldv)
        r.5.store(d + 5 * ldv)
    }
    emit(0, inputCombinations(k0.0, k1.0, k2.0, k3.0, k4.0, k5.0))
    emit(1, inputCombinations(k0.1, k1.1, k2.1, k3.1, k4.1, k5.1))
    emit(2, inputCombinations(k0.2, k1.2, k2.2, k3.2, k4.2, k5.2))
    emit(3, inputCombinations(k0.3, k1.3, k2.3, k3.3, k4.3, k5.3))
    emit(4, inputCombinations(k0.4, k1.4, k2.4, k3.4, k4.4, k5.4))
    emit(5, inputCombinations(k0.5, k1.5, k2.5, k3.5, k4.5, k5.5))
}

/// y [O, N, H, W] (the rows of `tiles` only) <- A^T M A for every output channel of
/// m [36, O, T] (position xi at xi * ldm).
public func winogradOutputTransform(
    _ m: UnsafePointer<Float>, channels co: Int, tiles: WinogradTiles, ldm: Int,
    into y: UnsafeMutablePointer<Float>
) {
    let h = tiles.height, w = tiles.width, n = tiles.batch
    let th = h / 4, tw = tiles.tilesPerRow, tc = tiles.count
    for o in 0..<co {
        for r in tiles.rows {
            let smp = r / th, ty = r % th
            let src = m + o * tc + (r - tiles.rows.lowerBound) * tw
            let out = y + (o * n + smp) * h * w + 4 * ty * w
            var t = 0
            while t + 4 <= tw {
                transformOutputTiles(src + t, ldm: ldm, into: out + 4 * t, width: w, SIMD4<Float>.self)
                t += 4
            }
            while t < tw {
                transformOutputTiles(src + t, ldm: ldm, into: out + 4 * t, width: w, SIMD1.self)
                t += 1
            }
        }
    }
}

/// A^T applied to six values.
@inline(__always)
private func outputCombinations<V: WinogradLanes>(_ m0: V, _ m1: V, _ m2: V, _ m3: V, _ m4: V, _ m5: V) -> (V, V, V, V) {
    let s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4
    return (m0 + s12 + s34, d12 + 2 * d34, s12 + 4 * s34, d12 + 8 * d34 + m5)
}

/// A^T M A for `lanes` consecutive tiles: their 4x4 outputs at out, out + width, ... (rows 0-3).
@inline(__always)
private func transformOutputTiles<V: WinogradLanes>(
    _ src: UnsafePointer<Float>, ldm: Int, into out: UnsafeMutablePointer<Float>, width w: Int, _: V.Type
) {
    // Column b of M.
    @inline(__always) func column(_ b: Int) -> (V, V, V, V) {
        outputCombinations(
            V(load: src + b * ldm), V(load: src + (6 + b) * ldm), V(load: src + (12 + b) * ldm),
            V(load: src + (18 + b) * ldm), V(load: src + (24 + b) * ldm), V(load: src + (30 + b) * ldm))
    }
    // A^T down every column of M (output rows 0-3 of each), then A along the rows.
    let z0 = column(0), z1 = column(1), z2 = column(2), z3 = column(3), z4 = column(4), z5 = column(5)
    let y0 = outputCombinations(z0.0, z1.0, z2.0, z3.0, z4.0, z5.0)
    let y1 = outputCombinations(z0.1, z1.1, z2.1, z3.1, z4.1, z5.1)
    let y2 = outputCombinations(z0.2, z1.2, z2.2, z3.2, z4.2, z5.2)
    let y3 = outputCombinations(z0.3, z1.3, z2.3, z3.3, z4.3, z5.3)
    V.storeTransposed(y0.0, y0.1, y0.2, y0.3, into: out)
    V.storeTransposed(y1.0, y1.1, y1.2, y1.3, into: out + w)
    V.storeTransposed(y2.0, y2.1, y2.2, y2.3, into: out + 2 * w)
    V.storeTransposed(y3.0, y3.1, y3.2, y3.3, into: out + 3 * w)
}

/// The 36 products M[xi] [O, T] = U[xi] [O, I] x V[xi] [I, T] (positions ldv and ldm apart).
public func winogradMultiply(
    _ u: UnsafePointer<Float>, _ v: UnsafePointer<Float>, ldv: Int, outChannels co: Int, inChannels ci: Int, tiles tc: Int,
    into m: UnsafeMutablePointer<Float>, ldm: Int
) {
    for xi in 0..<winogradPositions {
        BLAS.sgemm(m: co, n: tc, k: ci, a: u + xi * co * ci, lda: ci, b: v + xi * ldv, ldb: tc, c: m + xi * ldm, ldc: tc)
    }
}

/// Floats between the positions of a transformed operand of `rows` channels and `tiles` tiles:
/// padded off a multiple of 4 KiB, so the streams a transform writes do not share cache sets.
public func winogradPositionStride(rows: Int, tiles: Int) -> Int {
    let floats = rows * tiles
    return (floats + 15) / 16 * 16 + 16 * ((floats / 1024) % 2 == 0 ? 1 : 2)
}

/// Floats `winogradConv3x3` needs in each of `v` and `m` for `rows` channels (the larger of I and O)
/// and `tiles` tiles.
public func winogradScratch(rows: Int, tiles: Int) -> Int {
    winogradPositions * winogradPositionStride(rows: rows, tiles: tiles)
}

/// y [O, N, H, W] (rows of `tiles`) = the 3x3 correlation, padding 1, of x [I, N, H, W] (scaled by
/// scales [N, I] when given) with the kernel whose transform is u [36, O, I]: the three steps in
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
    winogradOutputTransform(m, channels: co, tiles: tiles, ldm: ldm, into: y)
}
