// Matrix products with a handful of rows: a layer's styles for a small batch (affine layers, the
// demodulation's sums). OpenBLAS packs the whole weight for every call, which costs more than the
// product itself when the other side has one to a few rows; these read each weight once per row.
// Row-major, as `BLAS.sgemm`; the reference is `BLAS.sgemm` itself.

/// Rows at most this many go to the skinny kernels.
public let skinnyGEMMMaxRows = 8

/// C[m, n] = alpha * A[m, k] B[n, k]^T + beta * C (BLAS.sgemm with transB), for few rows m.
public func skinnyGEMMTransB(
    m: Int, n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    for i in 0..<m {
        let ai = a + i * lda
        let ci = c + i * ldc
        for j in 0..<n {
            let v = alpha * dot(ai, b + j * ldb, count: k)
            ci[j] = beta == 0 ? v : v + beta * ci[j]
        }
    }
}

/// C[m, n] = alpha * A[m, k] B[k, n] + beta * C (BLAS.sgemm without transposes), for few rows m.
public func skinnyGEMM(
    m: Int, n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    for i in 0..<m {
        let ci = c + i * ldc
        if beta == 0 {
            ci.update(repeating: 0, count: n)
        } else if beta != 1 {
            for j in 0..<n { ci[j] *= beta }
        }
        for p in 0..<k {
            let scale = alpha * a[i * lda + p]
            if scale == 0 { continue }
            axpy(scale, b + p * ldb, ci, count: n)
        }
    }
}

// MARK: - Vector pieces

@inline(__always)
private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }

/// sum x[i] y[i], in eight interleaved partial sums.
@inline(__always)
func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
    var acc0 = SIMD8<Float>()
    var acc1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= count {
        acc0 += load8(x + i) * load8(y + i)
        acc1 += load8(x + i + 8) * load8(y + i + 8)
        i += 16
    }
    if i + 8 <= count {
        acc0 += load8(x + i) * load8(y + i)
        i += 8
    }
    var sum = (acc0 + acc1).sum()
    while i < count {
        sum += x[i] * y[i]
        i += 1
    }
    return sum
}

/// y += alpha x.
@inline(__always)
func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + 8 <= count {
        let r = UnsafeMutableRawPointer(y + i)
        r.storeBytes(of: r.loadUnaligned(as: SIMD8<Float>.self) + alpha * load8(x + i), as: SIMD8<Float>.self)
        i += 8
    }
    while i < count {
        y[i] += alpha * x[i]
        i += 1
    }
}
