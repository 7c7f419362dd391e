// NVIDIA's `upfirdn2d` with up = 1, as the discriminator's down-sampling layers run it: pad, filter,
// keep every `down`-th sample. conv2d_resample with down = 2 and the 4-tap filter pads (2, 2) before
// a 3x3 kernel (then the conv strides; here down = 1, output R + 1) and (1, 1) before a 1x1 kernel
// (here down = 2, output R / 2). Separable: one pass along each axis, each written as a correlation
// over a zero-bordered row (gathers, eight lanes at a time), the adjoint too. `firDown2dReference`
// is the plain loop both must equal.
//
// Dimension letters: P planes (channel x sample), H x W the input grid, Ho x Wo the output's.

/// One axis of the filter: out[i] = sum_t taps[t] x[down * i + t - pad0], x zero outside 0..<L.
/// `taps` are NVIDIA's filter flipped (upfirdn2d convolves unless flip_filter), per axis: the 2D
/// filter outer(f, f) / sum(f)^2 is outer(taps, taps) with taps = f / sum(f).
public struct FIRAxis: Sendable, Equatable {
    public var taps: [Float]
    public var pad0: Int
    public var pad1: Int
    public var down: Int

    public init(taps: [Float], pad0: Int, pad1: Int, down: Int) {
        self.taps = taps
        self.pad0 = pad0
        self.pad1 = pad1
        self.down = down
    }

    public func outputLength(_ length: Int) -> Int { (length + pad0 + pad1 - taps.count) / down + 1 }

    /// Floats of scratch `firDown2d` and its adjoint need for one plane of `height` x `width`: the
    /// horizontal pass [H, Wo] and one zero-bordered row.
    public func scratchCount(height: Int, width: Int) -> Int {
        height * max(outputLength(width), width) + borderedLength(width)
    }

    /// A row of `width` with room for every read of either pass (and eight lanes past its end).
    func borderedLength(_ width: Int) -> Int {
        let k = taps.count
        return max(width + pad0 + pad1, down * outputLength(width) + k) + width + 2 * k + 16
    }
}

/// out [P, Ho, Wo] = the filter applied to x [P, H, W] along both axes. `scratch` holds
/// `axis.scratchCount(height:width:)` floats.
public func firDown2d(
    _ x: UnsafePointer<Float>, planes: Int, height: Int, width: Int, axis: FIRAxis,
    into out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
) {
    precondition(axis.taps.count == 4, "the discriminator's FIR has 4 taps")
    let outW = axis.outputLength(width)
    let outH = axis.outputLength(height)
    let t = (axis.taps[0], axis.taps[1], axis.taps[2], axis.taps[3])
    let tmp = scratch  // [H, Wo]: the horizontal pass
    let row = scratch + height * outW  // x's row at pad0, zeros around it
    row.update(repeating: 0, count: axis.borderedLength(width))
    for p in 0..<planes {
        let src = x + p * height * width
        for h in 0..<height {
            (row + axis.pad0).update(from: src + h * width, count: width)
            correlate4(row, step: axis.down, taps: t, into: tmp + h * outW, count: outW)
        }
        // Vertical: output row oy reads rows down * oy - pad0 + j of tmp (zero outside).
        let dst = out + p * outH * outW
        for oy in 0..<outH {
            let base = oy * axis.down - axis.pad0
            combineRows4(tmp, rowLength: outW, rows: height, first: base, taps: t, into: dst + oy * outW)
        }
    }
}

/// gx [P, H, W] (+)= the adjoint of `firDown2d` applied to gout [P, Ho, Wo].
public func firDown2dAdjoint(
    _ gout: UnsafePointer<Float>, planes: Int, height: Int, width: Int, axis: FIRAxis,
    into gx: UnsafeMutablePointer<Float>, accumulate: Bool, scratch: UnsafeMutablePointer<Float>
) {
    precondition(axis.taps.count == 4, "the discriminator's FIR has 4 taps")
    let outW = axis.outputLength(width)
    let outH = axis.outputLength(height)
    let k = 4
    // The adjoint of "correlate with t at stride `down`" is "zero-insert by `down`, then correlate
    // with t reversed": in[i] = sum_j t[k - 1 - j] g[(i + pad0 - (k - 1) + j) / down] over the
    // j that divide evenly.
    let r = (axis.taps[3], axis.taps[2], axis.taps[1], axis.taps[0])
    let tmp = scratch  // [H, Wo]: the vertical adjoint
    let row = scratch + height * outW  // one zero-inserted, bordered row of g
    row.update(repeating: 0, count: axis.borderedLength(width))
    let lead = k - 1 - axis.pad0  // where g's sample 0 lands in the bordered row (before zero-insertion)
    for p in 0..<planes {
        let g = gout + p * outH * outW
        // Vertical adjoint: tmp row h = sum_j r[j] g[(h - lead + j) / down] over whole quotients.
        for h in 0..<height {
            let d = tmp + h * outW
            if axis.down == 1 {
                combineRows4(g, rowLength: outW, rows: outH, first: h - lead, taps: r, into: d)
                continue
            }
            d.update(repeating: 0, count: outW)
            for (j, w) in [r.0, r.1, r.2, r.3].enumerated() {
                let q = h - lead + j
                if q >= 0, q % axis.down == 0, q / axis.down < outH { addScaled(g + (q / axis.down) * outW, w, into: d, count: outW) }
            }
        }
        // Horizontal adjoint: zero-insert each row of tmp into the bordered row, then correlate.
        let dst = gx + p * height * width
        for h in 0..<height {
            let s = tmp + h * outW
            if axis.down == 1 {
                (row + lead).update(from: s, count: outW)
            } else {
                for ox in 0..<outW { row[lead + axis.down * ox] = s[ox] }
            }
            let d = dst + h * width
            if accumulate {
                correlate4Accumulate(row, taps: r, into: d, count: width)
            } else {
                correlate4(row, step: 1, taps: r, into: d, count: width)
            }
        }
        // Every row writes the same places of the bordered row, so its zeros stay zeros.
    }
}

/// The plain loops `firDown2d` and `firDown2dAdjoint` must equal (up to the order of four sums):
/// out[o] = sum over (j, l) of taps[j] taps[l] x[down * oy + j - pad0, down * ox + l - pad0].
public func firDown2dReference(
    _ x: UnsafePointer<Float>, planes: Int, height: Int, width: Int, axis: FIRAxis, into out: UnsafeMutablePointer<Float>
) {
    let outW = axis.outputLength(width), outH = axis.outputLength(height)
    let k = axis.taps.count
    for p in 0..<planes {
        for oy in 0..<outH {
            for ox in 0..<outW {
                var acc: Float = 0
                for j in 0..<k {
                    let y = axis.down * oy + j - axis.pad0
                    guard y >= 0 && y < height else { continue }
                    for l in 0..<k {
                        let xx = axis.down * ox + l - axis.pad0
                        guard xx >= 0 && xx < width else { continue }
                        acc += axis.taps[j] * axis.taps[l] * x[(p * height + y) * width + xx]
                    }
                }
                out[(p * outH + oy) * outW + ox] = acc
            }
        }
    }
}

// MARK: - Row kernels

/// d[i] = sum_j t[j] s[step * i + j] for i < count.
@inline(__always)
private func correlate4(
    _ s: UnsafePointer<Float>, step: Int, taps t: (Float, Float, Float, Float), into d: UnsafeMutablePointer<Float>, count: Int
) {
    var i = 0
    if step == 1 {
        let t0 = SIMD8<Float>(repeating: t.0), t1 = SIMD8<Float>(repeating: t.1)
        let t2 = SIMD8<Float>(repeating: t.2), t3 = SIMD8<Float>(repeating: t.3)
        while i + 8 <= count {
            let v = t0 * loadFloats8(s + i) + t1 * loadFloats8(s + i + 1) + t2 * loadFloats8(s + i + 2) + t3 * loadFloats8(s + i + 3)
            storeFloats8(v, d + i)
            i += 8
        }
    }
    while i < count {
        let b = s + step * i
        d[i] = t.0 * b[0] + t.1 * b[1] + t.2 * b[2] + t.3 * b[3]
        i += 1
    }
}

/// d[i] += sum_j t[j] s[i + j] for i < count.
@inline(__always)
private func correlate4Accumulate(
    _ s: UnsafePointer<Float>, taps t: (Float, Float, Float, Float), into d: UnsafeMutablePointer<Float>, count: Int
) {
    let t0 = SIMD8<Float>(repeating: t.0), t1 = SIMD8<Float>(repeating: t.1)
    let t2 = SIMD8<Float>(repeating: t.2), t3 = SIMD8<Float>(repeating: t.3)
    var i = 0
    while i + 8 <= count {
        let v = t0 * loadFloats8(s + i) + t1 * loadFloats8(s + i + 1) + t2 * loadFloats8(s + i + 2) + t3 * loadFloats8(s + i + 3)
        storeFloats8(loadFloats8(d + i) + v, d + i)
        i += 8
    }
    while i < count {
        d[i] += t.0 * s[i] + t.1 * s[i + 1] + t.2 * s[i + 2] + t.3 * s[i + 3]
        i += 1
    }
}

/// d = sum_j t[j] src[first + j] over the rows first ..< first + 4 of src [rows, rowLength] that exist.
@inline(__always)
private func combineRows4(
    _ src: UnsafePointer<Float>, rowLength n: Int, rows: Int, first: Int, taps t: (Float, Float, Float, Float),
    into d: UnsafeMutablePointer<Float>
) {
    if first >= 0 && first + 3 < rows {
        let r0 = src + first * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n
        let t0 = SIMD8<Float>(repeating: t.0), t1 = SIMD8<Float>(repeating: t.1)
        let t2 = SIMD8<Float>(repeating: t.2), t3 = SIMD8<Float>(repeating: t.3)
        var i = 0
        while i + 8 <= n {
            storeFloats8(t0 * loadFloats8(r0 + i) + t1 * loadFloats8(r1 + i) + t2 * loadFloats8(r2 + i) + t3 * loadFloats8(r3 + i), d + i)
            i += 8
        }
        while i < n {
            d[i] = t.0 * r0[i] + t.1 * r1[i] + t.2 * r2[i] + t.3 * r3[i]
            i += 1
        }
        return
    }
    // At the border: the rows that exist, one at a time.
    d.update(repeating: 0, count: n)
    for (j, w) in [t.0, t.1, t.2, t.3].enumerated() where first + j >= 0 && first + j < rows {
        addScaled(src + (first + j) * n, w, into: d, count: n)
    }
}

/// d += w * s.
@inline(__always)
private func addScaled(_ s: UnsafePointer<Float>, _ w: Float, into d: UnsafeMutablePointer<Float>, count n: Int) {
    let wv = SIMD8<Float>(repeating: w)
    var i = 0
    while i + 8 <= n {
        storeFloats8(loadFloats8(d + i) + wv * loadFloats8(s + i), d + i)
        i += 8
    }
    while i < n {
        d[i] += w * s[i]
        i += 1
    }
}

/// The per-axis taps of a stored 2D filter [4, 4] (NVIDIA's `setup_filter`: outer(f, f) / sum^2),
/// flipped as upfirdn2d applies them; nil when it is not separable.
func separableFilterTaps(_ f: Tensor) -> [Float]? {
    guard f.shape.count == 2, f.shape[0] == f.shape[1], f.shape[0] > 0 else { return nil }
    let k = f.shape[0]
    let v = f.scalars
    let rows = (0..<k).map { r in (0..<k).reduce(Float(0)) { $0 + v[r * k + $1] } }
    for r in 0..<k {
        for c in 0..<k where abs(rows[r] * rows[c] - v[r * k + c]) > 1e-6 { return nil }
    }
    return rows.reversed()
}
