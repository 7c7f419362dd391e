/// Naive float64 versions of the operators NVIDIA's StyleGAN2 calls, written from PyTorch's and
/// NVIDIA's definitions with plain loops over NCHW (no lowering, no separable filters, no tricks).
/// They are the references both for the fast kernels and for `ReferenceStyleGAN2`.
public enum ReferenceOps {
    /// torch.nn.functional.conv2d (a correlation, no flip) of one sample, stride 1, zero padding:
    /// out [O, Hout, Wout] from x [I, H, W] and w [O, I, k, k], Hout = H + 2 * padding - k + 1.
    public static func conv2d(
        _ x: [Double], channels ci: Int, height h: Int, width wd: Int,
        weight w: [Double], outChannels co: Int, kernel k: Int, padding p: Int
    ) -> (out: [Double], height: Int, width: Int) {
        let oh = h + 2 * p - k + 1
        let ow = wd + 2 * p - k + 1
        var out = [Double](repeating: 0, count: co * oh * ow)
        for o in 0..<co {
            for y in 0..<oh {
                for xx in 0..<ow {
                    var acc = 0.0
                    for i in 0..<ci {
                        for ky in 0..<k {
                            let sy = y + ky - p
                            if sy < 0 || sy >= h { continue }
                            for kx in 0..<k {
                                let sx = xx + kx - p
                                if sx < 0 || sx >= wd { continue }
                                acc += x[(i * h + sy) * wd + sx] * w[((o * ci + i) * k + ky) * k + kx]
                            }
                        }
                    }
                    out[(o * oh + y) * ow + xx] = acc
                }
            }
        }
        return (out, oh, ow)
    }

    /// torch.nn.functional.conv_transpose2d of one sample, padding 0: x [I, H, W] and
    /// w [I, O, k, k] (PyTorch's transposed-conv layout), out [O, (H - 1) * s + k, (W - 1) * s + k]
    /// with out[o, y * s + ky, x * s + kx] += x[i, y, x] * w[i, o, ky, kx].
    public static func convTranspose2d(
        _ x: [Double], channels ci: Int, height h: Int, width wd: Int,
        weight w: [Double], outChannels co: Int, kernel k: Int, stride s: Int
    ) -> (out: [Double], height: Int, width: Int) {
        let oh = (h - 1) * s + k
        let ow = (wd - 1) * s + k
        var out = [Double](repeating: 0, count: co * oh * ow)
        for i in 0..<ci {
            for y in 0..<h {
                for xx in 0..<wd {
                    let v = x[(i * h + y) * wd + xx]
                    for o in 0..<co {
                        for ky in 0..<k {
                            for kx in 0..<k {
                                out[(o * oh + y * s + ky) * ow + xx * s + kx] += v * w[((i * co + o) * k + ky) * k + kx]
                            }
                        }
                    }
                }
            }
        }
        return (out, oh, ow)
    }

    /// NVIDIA's `_upfirdn2d_ref` (down = 1, non-negative padding) on `planes` planes [H, W]:
    /// zero-insert by `up` (sample at multiples of up, up - 1 zeros after each), pad
    /// [padX0, padX1, padY0, padY1], multiply the full 2D filter f [fh, fw] by gain^(ndim / 2) = gain,
    /// flip it (upfirdn2d convolves) and correlate.
    public static func upfirdn2d(
        _ x: [Double], planes: Int, height h: Int, width wd: Int,
        filter f: [Double], filterHeight fh: Int, filterWidth fw: Int,
        up: Int, padX0: Int, padX1: Int, padY0: Int, padY1: Int, gain: Double
    ) -> (out: [Double], height: Int, width: Int) {
        precondition(f.count == fh * fw && min(padX0, padX1, padY0, padY1) >= 0)
        let ph = h * up + padY0 + padY1
        let pw = wd * up + padX0 + padX1
        let oh = ph - fh + 1
        let ow = pw - fw + 1
        // The flipped, gained filter.
        var g = [Double](repeating: 0, count: fh * fw)
        for ty in 0..<fh { for tx in 0..<fw { g[ty * fw + tx] = f[(fh - 1 - ty) * fw + (fw - 1 - tx)] * gain } }
        var out = [Double](repeating: 0, count: planes * oh * ow)
        var padded = [Double](repeating: 0, count: ph * pw)
        for p in 0..<planes {
            for i in padded.indices { padded[i] = 0 }
            for y in 0..<h { for xx in 0..<wd { padded[(y * up + padY0) * pw + xx * up + padX0] = x[(p * h + y) * wd + xx] } }
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var acc = 0.0
                    for ty in 0..<fh { for tx in 0..<fw { acc += padded[(oy + ty) * pw + ox + tx] * g[ty * fw + tx] } }
                    out[(p * oh + oy) * ow + ox] = acc
                }
            }
        }
        return (out, oh, ow)
    }

    /// Row-major C [m, n] = alpha * op(A) * op(B) + beta * C with leading dimensions, by the textbook
    /// triple loop: op(A)[i, p] is a[i * lda + p], or a[p * lda + i] when transposed.
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: [Double], lda: Int, b: [Double], ldb: Int, beta: Double, c: inout [Double], ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var acc = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    acc += av * bv
                }
                c[i * ldc + j] = alpha * acc + beta * c[i * ldc + j]
            }
        }
    }

    /// Σ a[i] * b[i] accumulated in float64 (for adjoint identities on float32 kernels).
    public static func dot(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count)
        var acc = 0.0
        for i in a.indices { acc += Double(a[i]) * Double(b[i]) }
        return acc
    }

    /// Σ |a[i] * b[i]|: the scale against which a float32 dot product's rounding is judged.
    public static func absDot(_ a: [Float], _ b: [Float]) -> Double {
        var acc = 0.0
        for i in a.indices { acc += abs(Double(a[i]) * Double(b[i])) }
        return acc
    }
}
