// A LoRA-style change of one weight: W = W0 + up · down, trained through its two factors.
//
// Dimension letters: O the weight's first (output) dimension, K the product of the rest (I·3·3 for
// a conv weight [O, I, 3, 3], w_dim for an affine weight [I, w_dim]), r the rank.

/// delta = up [O, r] · down [r, K], the weight's change seen as an [O, K] matrix.
public struct LowRankDelta: Sendable, Equatable {
    public var up: Tensor  // [O, r]
    /// The weight's shape with O replaced by r: [r, I, 3, 3] or [r, w_dim] (row-major, so [r, K]).
    public var down: Tensor

    public var rank: Int { up.shape[1] }
    public var rows: Int { up.shape[0] }  // O
    public var columns: Int { down.count / max(1, rank) }  // K
    /// The shape of the weight this delta is for.
    public var weightShape: [Int] { [rows] + down.shape.dropFirst() }

    public init(up: Tensor, down: Tensor) {
        precondition(up.rank == 2 && down.rank >= 2 && down.shape[0] == up.shape[1], "low-rank factors \(up.shape) and \(down.shape) do not chain")
        self.up = up
        self.down = down
    }

    /// base + up · down, shaped as base [O, ...]. One GEMM into a copy of the base: the order of every
    /// sum is fixed by the shapes (OpenBLAS runs single-threaded here), so the tuner and a reader of
    /// the stored factors get the same bits.
    public func added(to base: Tensor) -> Tensor {
        precondition(base.shape == weightShape, "a delta for \(weightShape) added to \(base.shape)")
        var out = base
        let (o, k, r) = (rows, columns, rank)
        up.withUnsafeBufferPointer { u in
            down.withUnsafeBufferPointer { d in
                out.withUnsafeMutableBufferPointer { w in
                    BLAS.sgemm(m: o, n: k, k: r, a: u.baseAddress!, lda: r, b: d.baseAddress!, ldb: k, beta: 1, c: w.baseAddress!, ldc: k)
                }
            }
        }
        return out
    }

    /// The factors' gradients from the dense gradient g [O, ...] of the weight W = W0 + up · down:
    /// d up = g · downᵀ [O, r], d down = upᵀ · g [r, K] (two thin GEMMs, K·O·r each).
    public func gradients(_ g: Tensor) -> (up: Tensor, down: Tensor) {
        precondition(g.shape == weightShape, "a gradient \(g.shape) for a delta of \(weightShape)")
        let (o, k, r) = (rows, columns, rank)
        var gUp = Tensor(zeros: up.shape)
        var gDown = Tensor(zeros: down.shape)
        g.withUnsafeBufferPointer { gp in
            up.withUnsafeBufferPointer { u in
                down.withUnsafeBufferPointer { d in
                    gUp.withUnsafeMutableBufferPointer { gu in
                        BLAS.sgemm(transB: true, m: o, n: r, k: k, a: gp.baseAddress!, lda: k, b: d.baseAddress!, ldb: k, c: gu.baseAddress!, ldc: r)
                    }
                    gDown.withUnsafeMutableBufferPointer { gd in
                        BLAS.sgemm(transA: true, m: r, n: k, k: o, a: u.baseAddress!, lda: r, b: gp.baseAddress!, ldb: k, c: gd.baseAddress!, ldc: k)
                    }
                }
            }
        }
        return (gUp, gDown)
    }
}
