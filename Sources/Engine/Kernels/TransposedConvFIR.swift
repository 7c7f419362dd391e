// The up-sampling half of a StyleGAN2 up layer, fused: the col2im of a stride-2 transposed 3x3
// convolution followed by the 4-tap FIR with padding 1, straight from the GEMM's tap planes to the
// [2H, 2W] output, without the zeroed [2H + 1, 2W + 1] grid in between.
//
// Per axis the two steps are one linear map V_k from a length-L line to a length-2L line for each tap
// k = 0, 1, 2: the scatter puts t_k[j] at 2j + k, the FIR (taps f, already flipped with the gain
// folded in, as `UpFirDnAxis` takes them) then reads up[X + a - 1] for a = 0 ..< 4. Output X = 2m + ph
// receives f[a] * t_k[j] where 2j + k + 1 - a = X, i.e. two terms per (k, phase):
//
//   even 2m:  f1 t0[m] + f3 t0[m+1] + f0 t1[m-1] + f2 t1[m] + f1 t2[m-1] + f3 t2[m]
//   odd 2m+1: f0 t0[m] + f2 t0[m+1] + f1 t1[m] + f3 t1[m+1] + f0 t2[m-1] + f2 t2[m]
//
// with t[-1] = t[L] = 0. The 2D map is the product of the row map (over kx) and the column map (over
// ky): out = sum_{ky, kx} V_ky t_{ky, kx} V_kx^T. The reference is `col2imTransposed3x3Accumulate`
// followed by `upFirDn2d(up: 1, pad0: 1, pad1: 1)`, which is what the tests hold this against.
//
// Dimension letters: H x W the input grid (the GEMM's columns), K = 9 taps (ky * 3 + kx).

/// Floats of scratch `transposedConv3x3UpFIR` and its backward need for an H x W input grid.
public func transposedConv3x3UpFIRScratch(height: Int, width: Int) -> Int { (3 * height + 1) * 2 * width }

/// y [2H, 2W] = upfirdn2d(pad 1, 1)(conv_transpose2d scatter of the 9 tap planes) for one plane.
///
/// Tap plane k ([H, W], k = ky * 3 + kx) starts at `t + k * tapStride` (the rows of one output channel
/// in the GEMM's [O * 9, N * H * W] result: tapStride is that matrix's row length). `fir` holds the 4
/// per-axis taps, flipped, gain folded in. `scratch` holds `transposedConv3x3UpFIRScratch` floats.
public func transposedConv3x3UpFIR(
    _ t: UnsafePointer<Float>, tapStride: Int, height h: Int, width w: Int, fir: [Float],
    into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
) {
    precondition(fir.count == 4, "the up-sampling FIR has 4 taps")
    let f = (fir[0], fir[1], fir[2], fir[3])
    let w2 = 2 * w
    // Rows: r[ky][i] [2W] = sum_kx t_{ky, kx}[i, :] V_kx^T, then one zero row.
    for ky in 0..<3 {
        for i in 0..<h {
            upPhaseRow(
                t + (ky * 3) * tapStride + i * w, t + (ky * 3 + 1) * tapStride + i * w, t + (ky * 3 + 2) * tapStride + i * w,
                count: w, f, into: scratch + (ky * h + i) * w2)
        }
    }
    let zero = scratch + 3 * h * w2
    zero.update(repeating: 0, count: w2)
    @inline(__always) func row(_ ky: Int, _ i: Int) -> UnsafePointer<Float> {
        i >= 0 && i < h ? UnsafePointer(scratch + (ky * h + i) * w2) : UnsafePointer(zero)
    }
    // Columns: y[2m + ph, :] = sum_ky V_ky[2m + ph, :] r[ky], the same two terms per (ky, phase).
    for m in 0..<h {
        combine6(
            row(0, m), f.1, row(0, m + 1), f.3, row(1, m - 1), f.0, row(1, m), f.2, row(2, m - 1), f.1, row(2, m), f.3,
            count: w2, into: y + 2 * m * w2)
        combine6(
            row(0, m), f.0, row(0, m + 1), f.2, row(1, m), f.1, row(1, m + 1), f.3, row(2, m - 1), f.0, row(2, m), f.2,
            count: w2, into: y + (2 * m + 1) * w2)
    }
}

/// gt_k [H, W] (k = 0 ..< 9, at `gt + k * tapStride`) = the adjoint of `transposedConv3x3UpFIR` applied
/// to g [2H, 2W]; written, not accumulated. `scratch` holds `transposedConv3x3UpFIRScratch` floats.
public func transposedConv3x3UpFIRBackward(
    _ g: UnsafePointer<Float>, height h: Int, width w: Int, fir: [Float],
    into gt: UnsafeMutablePointer<Float>, tapStride: Int, scratch: UnsafeMutablePointer<Float>
) {
    precondition(fir.count == 4, "the up-sampling FIR has 4 taps")
    let f = (fir[0], fir[1], fir[2], fir[3])
    let w2 = 2 * w
    let zero = scratch + 3 * w2
    zero.update(repeating: 0, count: w2)
    @inline(__always) func even(_ m: Int) -> UnsafePointer<Float> { m >= 0 && m < h ? g + 2 * m * w2 : UnsafePointer(zero) }
    @inline(__always) func odd(_ m: Int) -> UnsafePointer<Float> { m >= 0 && m < h ? g + (2 * m + 1) * w2 : UnsafePointer(zero) }
    let r0 = scratch
    let r1 = scratch + w2
    let r2 = scratch + 2 * w2
    for i in 0..<h {
        // Column adjoint: gr[ky] [2W] = sum over output rows of V_ky[row, i] g[row, :].
        combine4(even(i), f.1, even(i - 1), f.3, odd(i), f.0, odd(i - 1), f.2, count: w2, into: r0)
        combine4(even(i + 1), f.0, even(i), f.2, odd(i), f.1, odd(i - 1), f.3, count: w2, into: r1)
        combine4(even(i + 1), f.1, even(i), f.3, odd(i + 1), f.0, odd(i), f.2, count: w2, into: r2)
        // Row adjoint: gt_{ky, kx}[i, :] = V_kx^T gr[ky].
        let row = gt + i * w
        upPhaseRowAdjoint(UnsafePointer(r0), count: w, f, into: row, row + tapStride, row + 2 * tapStride)
        upPhaseRowAdjoint(UnsafePointer(r1), count: w, f, into: row + 3 * tapStride, row + 4 * tapStride, row + 5 * tapStride)
        upPhaseRowAdjoint(UnsafePointer(r2), count: w, f, into: row + 6 * tapStride, row + 7 * tapStride, row + 8 * tapStride)
    }
}

// MARK: - One axis

/// h [2L] (interleaved phases) = V_0 t0 + V_1 t1 + V_2 t2 for lines of length L.
@inline(__always)
private func upPhaseRow(
    _ t0: UnsafePointer<Float>, _ t1: UnsafePointer<Float>, _ t2: UnsafePointer<Float>, count l: Int,
    _ f: (Float, Float, Float, Float), into h: UnsafeMutablePointer<Float>
) {
    let (f0, f1, f2, f3) = f
    @inline(__always) func at(_ p: UnsafePointer<Float>, _ j: Int) -> Float { j >= 0 && j < l ? p[j] : 0 }
    @inline(__always) func edge(_ m: Int) {
        h[2 * m] = f1 * at(t0, m) + f3 * at(t0, m + 1) + f0 * at(t1, m - 1) + f2 * at(t1, m) + f1 * at(t2, m - 1) + f3 * at(t2, m)
        h[2 * m + 1] = f0 * at(t0, m) + f2 * at(t0, m + 1) + f1 * at(t1, m) + f3 * at(t1, m + 1) + f0 * at(t2, m - 1) + f2 * at(t2, m)
    }
    edge(0)
    if l < 2 { return }
    var m = 1
    while m < l - 1 {
        let a = t0[m]
        let b = t0[m + 1]
        let c = t1[m - 1]
        let d = t1[m]
        let e = t1[m + 1]
        let p = t2[m - 1]
        let q = t2[m]
        h[2 * m] = f1 * a + f3 * b + f0 * c + f2 * d + f1 * p + f3 * q
        h[2 * m + 1] = f0 * a + f2 * b + f1 * d + f3 * e + f0 * p + f2 * q
        m += 1
    }
    edge(l - 1)
}

/// (g0, g1, g2) [L] = (V_0^T h, V_1^T h, V_2^T h) for an interleaved line h [2L]; written.
@inline(__always)
private func upPhaseRowAdjoint(
    _ h: UnsafePointer<Float>, count l: Int, _ f: (Float, Float, Float, Float),
    into g0: UnsafeMutablePointer<Float>, _ g1: UnsafeMutablePointer<Float>, _ g2: UnsafeMutablePointer<Float>
) {
    let (f0, f1, f2, f3) = f
    // e[m] = h[2m], o[m] = h[2m + 1], zero outside 0 ..< L.
    @inline(__always) func e(_ m: Int) -> Float { m >= 0 && m < l ? h[2 * m] : 0 }
    @inline(__always) func o(_ m: Int) -> Float { m >= 0 && m < l ? h[2 * m + 1] : 0 }
    @inline(__always) func edge(_ j: Int) {
        g0[j] = f1 * e(j) + f3 * e(j - 1) + f0 * o(j) + f2 * o(j - 1)
        g1[j] = f0 * e(j + 1) + f2 * e(j) + f1 * o(j) + f3 * o(j - 1)
        g2[j] = f1 * e(j + 1) + f3 * e(j) + f0 * o(j + 1) + f2 * o(j)
    }
    edge(0)
    if l < 2 { return }
    var j = 1
    while j < l - 1 {
        let ep = h[2 * j - 2]
        let op = h[2 * j - 1]
        let ec = h[2 * j]
        let oc = h[2 * j + 1]
        let en = h[2 * j + 2]
        let on = h[2 * j + 3]
        g0[j] = f1 * ec + f3 * ep + f0 * oc + f2 * op
        g1[j] = f0 * en + f2 * ec + f1 * oc + f3 * op
        g2[j] = f1 * en + f3 * ec + f0 * on + f2 * oc
        j += 1
    }
    edge(l - 1)
}

// MARK: - Row combinations

@inline(__always)
private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }

@inline(__always)
private func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self) }

/// y[x] = sum of six weighted rows at x, for x in 0 ..< count.
@inline(__always)
private func combine6(
    _ a: UnsafePointer<Float>, _ fa: Float, _ b: UnsafePointer<Float>, _ fb: Float, _ c: UnsafePointer<Float>, _ fc: Float,
    _ d: UnsafePointer<Float>, _ fd: Float, _ e: UnsafePointer<Float>, _ fe: Float, _ g: UnsafePointer<Float>, _ fg: Float,
    count: Int, into y: UnsafeMutablePointer<Float>
) {
    var x = 0
    while x + 8 <= count {
        var v = load8(a + x) * fa
        v += load8(b + x) * fb
        v += load8(c + x) * fc
        v += load8(d + x) * fd
        v += load8(e + x) * fe
        v += load8(g + x) * fg
        store8(v, y + x)
        x += 8
    }
    while x < count {
        y[x] = a[x] * fa + b[x] * fb + c[x] * fc + d[x] * fd + e[x] * fe + g[x] * fg
        x += 1
    }
}

/// y[x] = sum of four weighted rows at x, for x in 0 ..< count.
@inline(__always)
private func combine4(
    _ a: UnsafePointer<Float>, _ fa: Float, _ b: UnsafePointer<Float>, _ fb: Float, _ c: UnsafePointer<Float>, _ fc: Float,
    _ d: UnsafePointer<Float>, _ fd: Float, count: Int, into y: UnsafeMutablePointer<Float>
) {
    var x = 0
    while x + 8 <= count {
        var v = load8(a + x) * fa
        v += load8(b + x) * fb
        v += load8(c + x) * fc
        v += load8(d + x) * fd
        store8(v, y + x)
        x += 8
    }
    while x < count {
        y[x] = a[x] * fa + b[x] * fb + c[x] * fc + d[x] * fd
        x += 1
    }
}
