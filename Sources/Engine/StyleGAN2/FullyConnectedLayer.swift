/// NVIDIA's `FullyConnectedLayer`: equalized learning rate, gains applied at run time.
///
/// y = act(x @ (weight * weightGain)^T + bias * biasGain), with weightGain = lr_multiplier / sqrt(in)
/// and biasGain = lr_multiplier. `act` is linear or lrelu(0.2) * sqrt(2).
public struct FullyConnectedLayer: Sendable {
    public var weight: Tensor  // [out, in]
    public var bias: Tensor  // [out]
    public let weightGain: Float
    public let biasGain: Float
    public let lrelu: Bool

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public init(weight: Tensor, bias: Tensor, lrMultiplier: Float, lrelu: Bool) {
        self.weight = weight
        self.bias = bias
        self.weightGain = lrMultiplier / Float(weight.shape[1]).squareRoot()
        self.biasGain = lrMultiplier
        self.lrelu = lrelu
    }

    /// y [rows, out] = layer(x [rows, in]); x rows are `ldx` floats apart.
    func forward(_ x: UnsafePointer<Float>, rows: Int, ldx: Int, into y: UnsafeMutablePointer<Float>, ldy: Int) {
        let o = outFeatures
        weight.withUnsafeBufferPointer { w in
            if rows <= skinnyGEMMMaxRows {
                skinnyGEMMTransB(
                    m: rows, n: o, k: inFeatures, alpha: weightGain, a: x, lda: ldx, b: w.baseAddress!, ldb: inFeatures, c: y, ldc: ldy)
            } else {
                BLAS.sgemm(
                    transB: true, m: rows, n: o, k: inFeatures, alpha: weightGain,
                    a: x, lda: ldx, b: w.baseAddress!, ldb: inFeatures, c: y, ldc: ldy)
            }
        }
        bias.withUnsafeBufferPointer { b in
            for r in 0..<rows {
                let row = y + r * ldy
                for j in 0..<o {
                    let v = row[j] + b[j] * biasGain
                    row[j] = lrelu ? (v > 0 ? v : v * 0.2) * Float(2).squareRoot() : v
                }
            }
        }
    }

    /// Given gy for outputs y (post-activation), accumulates gx (+=) and, when asked, the parameter
    /// gradients gWeight [out, in] and gBias [out] (+=). gy is overwritten with the pre-activation gradient.
    func backward(
        x: UnsafePointer<Float>, y: UnsafePointer<Float>, gy: UnsafeMutablePointer<Float>, rows: Int,
        ldx: Int, ldy: Int, gx: UnsafeMutablePointer<Float>?, ldgx: Int,
        gWeight: UnsafeMutablePointer<Float>?, gBias: UnsafeMutablePointer<Float>?
    ) {
        let o = outFeatures
        let i = inFeatures
        if lrelu {
            let g = Float(2).squareRoot()
            for r in 0..<rows {
                for j in 0..<o { gy[r * ldy + j] *= y[r * ldy + j] > 0 ? g : g * 0.2 }
            }
        }
        if let gBias {
            for r in 0..<rows { for j in 0..<o { gBias[j] += gy[r * ldy + j] * biasGain } }
        }
        if let gWeight {
            BLAS.sgemm(
                transA: true, m: o, n: i, k: rows, alpha: weightGain, a: gy, lda: ldy, b: x, ldb: ldx,
                beta: 1, c: gWeight, ldc: i)
        }
        if let gx {
            weight.withUnsafeBufferPointer { w in
                if rows <= skinnyGEMMMaxRows {
                    skinnyGEMM(m: rows, n: i, k: o, alpha: weightGain, a: gy, lda: ldy, b: w.baseAddress!, ldb: i, beta: 1, c: gx, ldc: ldgx)
                } else {
                    BLAS.sgemm(
                        m: rows, n: i, k: o, alpha: weightGain, a: gy, lda: ldy, b: w.baseAddress!, ldb: i,
                        beta: 1, c: gx, ldc: ldgx)
                }
            }
        }
    }
}
