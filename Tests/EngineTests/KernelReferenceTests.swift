import Engine
import Testing
import TestSupport

// Over 400 lines on purpose: one case per public kernel, sharing the NaN-guarded buffers and chunk
// helpers that make a skipped or stray write show.

/// Every public fast kernel against a plain reference (`ReferenceOps` or a naive loop here), on
/// random odd and non-square shapes with batch > 1 and sample chunks n0 ..< n0 + count that leave
/// samples out. Output buffers start as NaN (or random, for accumulating kernels) with a NaN tail,
/// so a kernel that skips an element, writes past its extent, or touches samples outside its chunk
/// fails.
@Suite("Fast kernels against naive references")
struct KernelReferenceTests {
    /// [C, N, H, W] activations with a chunk of samples: (channels, batch, height, width, n0, count).
    struct Shape: Sendable, CustomStringConvertible {
        var channels: Int
        var batch: Int
        var height: Int
        var width: Int
        var n0: Int
        var count: Int
        var description: String { "C\(channels) N\(batch) \(height)x\(width) samples \(n0)..<\(n0 + count)" }
    }

    static let shapes: [Shape] = [
        Shape(channels: 1, batch: 1, height: 1, width: 1, n0: 0, count: 1),
        Shape(channels: 3, batch: 3, height: 5, width: 7, n0: 1, count: 2),
        Shape(channels: 2, batch: 4, height: 6, width: 3, n0: 0, count: 3),
        Shape(channels: 4, batch: 5, height: 2, width: 1, n0: 2, count: 2),
        Shape(channels: 2, batch: 2, height: 4, width: 4, n0: 0, count: 2),
    ]

    static let tail = 7  // NaN floats after every output's extent

    /// A float buffer of `count` values then a NaN tail.
    static func buffer(_ values: [Float]) -> [Float] { values + Array(repeating: .nan, count: tail) }

    static func expectTailUntouched(_ b: [Float], count: Int, _ label: String) {
        #expect(b[count...].allSatisfy { $0.isNaN }, "\(label): wrote past its \(count) floats")
    }

    /// max |a - b| <= tol * max(1, max |b|). Inputs are N(0, 1), so a float32 sum of K products errs by
    /// <= K * 2^-24 * sum|terms| in the worst case and ~sqrt(K) * 2^-24 * |terms| typically; each `tol`
    /// below says which K.
    static func expectClose(_ a: [Float], _ b: [Double], tol: Double, _ label: String) {
        #expect(a.count == b.count)
        var worst = 0.0
        var at = 0
        var scale = 1.0
        for i in b.indices {
            let d = abs(Double(a[i]) - b[i])
            if !(d <= worst) { worst = d.isNaN ? .infinity : d; at = i }
            scale = max(scale, abs(b[i]))
        }
        print("kernel \(label): max|diff| \(worst) at \(at) (scale \(scale))")
        #expect(worst <= tol * scale, "\(label): max|diff| \(worst) at \(at): kernel \(a[at]), reference \(b[at])")
    }

    /// The naive im2col: cols[(c, ky, kx), (n, h, w)] = x[c, n0 + n, h + ky - 1, w + kx - 1] or 0.
    static func naiveIm2col(_ x: [Float], _ s: Shape) -> [Float] {
        let hw = s.height * s.width
        var cols = [Float](repeating: 0, count: s.channels * 9 * s.count * hw)
        for c in 0..<s.channels {
            for k in 0..<9 {
                for n in 0..<s.count {
                    for h in 0..<s.height {
                        for w in 0..<s.width {
                            let sy = h + k / 3 - 1
                            let sx = w + k % 3 - 1
                            guard sy >= 0, sy < s.height, sx >= 0, sx < s.width else { continue }
                            cols[(c * 9 + k) * s.count * hw + n * hw + h * s.width + w] =
                                x[((c * s.batch + s.n0 + n) * s.height + sy) * s.width + sx]
                        }
                    }
                }
            }
        }
        return cols
    }

    // MARK: - im2col3x3 / col2im3x3Accumulate

    /// im2col3x3 equals the naive gather exactly, and im2col3x3 + BLAS.sgemm equals a direct 3x3
    /// correlation (padding 1) of each sample in the chunk, as the engine's conv layers use them.
    @Test(arguments: shapes)
    func im2colGemmIsDirectConvolution(_ s: Shape) throws {
        try BLAS.load()
        var rng = TestRandom(seed: 1)
        let hw = s.height * s.width
        let x = rng.normals(s.channels * s.batch * hw)  // [C, N, H, W]
        let co = 3
        let w = rng.normals(co * s.channels * 9)  // [O, C, 3, 3]
        var cols = Self.buffer(Array(repeating: .nan, count: s.channels * 9 * s.count * hw))  // [C * 9, count * H * W]
        im2col3x3(x, channels: s.channels, batch: s.batch, height: s.height, width: s.width, samples: s.n0, count: s.count, into: &cols)
        let expected = Self.naiveIm2col(x, s)
        #expect(Array(cols[..<expected.count]) == expected, "\(s): im2col3x3 differs from the naive gather")
        Self.expectTailUntouched(cols, count: expected.count, "im2col3x3 \(s)")

        var y = Self.buffer(Array(repeating: .nan, count: co * s.count * hw))  // [O, count * H * W]
        BLAS.sgemm(m: co, n: s.count * hw, k: s.channels * 9, a: w, lda: s.channels * 9, b: cols, ldb: s.count * hw, c: &y, ldc: s.count * hw)
        var reference = [Double](repeating: 0, count: co * s.count * hw)
        for n in 0..<s.count {
            var sample = [Double]()  // [C, H, W] of sample n0 + n
            for c in 0..<s.channels { sample += x[((c * s.batch + s.n0 + n) * hw)..<((c * s.batch + s.n0 + n + 1) * hw)].map(Double.init) }
            let out = ReferenceOps.conv2d(
                sample, channels: s.channels, height: s.height, width: s.width, weight: w.map(Double.init), outChannels: co,
                kernel: 3, padding: 1).out
            for o in 0..<co { for p in 0..<hw { reference[o * s.count * hw + n * hw + p] = out[o * hw + p] } }
        }
        // sgemm sums K = 9 C <= 36 products: worst case 36 * 2^-24 = 2e-6 of sum|terms| (a few times the
        // largest output), typical ~1e-7; 1e-5 holds on any BLAS kernel.
        Self.expectClose(Array(y[..<reference.count]), reference, tol: 1e-5, "im2col3x3 + sgemm vs conv2d \(s)")
        Self.expectTailUntouched(y, count: reference.count, "sgemm \(s)")
    }

    /// col2im3x3Accumulate adds the naive scatter to what gx holds (only in the chunk's samples) and
    /// is the exact adjoint of im2col3x3: <im2col(x), g> = <x, col2im(g)>.
    @Test(arguments: shapes)
    func col2imIsTheAdjointOfIm2col(_ s: Shape) {
        var rng = TestRandom(seed: 2)
        let hw = s.height * s.width
        let colsCount = s.channels * 9 * s.count * hw
        let xCount = s.channels * s.batch * hw
        let g = rng.normals(colsCount)  // [C * 9, count * H * W]
        let base = rng.normals(xCount)  // [C, N, H, W], what gx holds before
        var gx = Self.buffer(base)
        col2im3x3Accumulate(g, channels: s.channels, batch: s.batch, height: s.height, width: s.width, samples: s.n0, count: s.count, into: &gx)
        Self.expectTailUntouched(gx, count: xCount, "col2im3x3Accumulate \(s)")
        // Naive scatter, the transpose of the naive gather.
        var expected = base.map(Double.init)
        for c in 0..<s.channels {
            for k in 0..<9 {
                for n in 0..<s.count {
                    for h in 0..<s.height {
                        for w in 0..<s.width {
                            let sy = h + k / 3 - 1
                            let sx = w + k % 3 - 1
                            guard sy >= 0, sy < s.height, sx >= 0, sx < s.width else { continue }
                            expected[((c * s.batch + s.n0 + n) * s.height + sy) * s.width + sx] +=
                                Double(g[(c * 9 + k) * s.count * hw + n * hw + h * s.width + w])
                        }
                    }
                }
            }
        }
        // <= 9 float32 additions onto base per element: <= 9 * 2^-24 = 5.4e-7 of the partial sums' size. No BLAS.
        Self.expectClose(Array(gx[..<xCount]), expected, tol: 1e-6, "col2im3x3Accumulate vs naive scatter \(s)")
        for c in 0..<s.channels {
            for n in 0..<s.batch where n < s.n0 || n >= s.n0 + s.count {
                let r = ((c * s.batch + n) * hw)..<((c * s.batch + n + 1) * hw)
                #expect(Array(gx[r]) == Array(base[r]), "\(s): col2im touched sample \(n) outside its chunk")
            }
        }
        // Adjoint identity, without the accumulation: gx0 = col2im(g) into zeros.
        let x = rng.normals(xCount)
        var cols = [Float](repeating: 0, count: colsCount)
        im2col3x3(x, channels: s.channels, batch: s.batch, height: s.height, width: s.width, samples: s.n0, count: s.count, into: &cols)
        var gx0 = [Float](repeating: 0, count: xCount)
        col2im3x3Accumulate(g, channels: s.channels, batch: s.batch, height: s.height, width: s.width, samples: s.n0, count: s.count, into: &gx0)
        let lhs = ReferenceOps.dot(cols, g)
        let rhs = ReferenceOps.dot(x, gx0)
        print("kernel col2im adjoint \(s): <Ax, g> \(lhs) <x, A^T g> \(rhs)")
        // im2col copies exactly; col2im's float32 sums of <= 9 terms err by <= 9 * 2^-24 of sum|terms|, so
        // <x, col2im g> is off by <= 5.4e-7 * sum |x| |g| = 5.4e-7 * absDot (the dots themselves are float64).
        #expect(abs(lhs - rhs) <= 1e-6 * ReferenceOps.absDot(cols, g), "\(s): <im2col x, g> \(lhs) != <x, col2im g> \(rhs)")
    }

    // MARK: - Transposed (stride-2 up-sampling) conv

    /// sgemm with the transposed weight + col2imTransposed3x3Accumulate, as the engine's up layers
    /// run them, equals PyTorch's conv_transpose2d(stride 2, padding 0) of each sample in the chunk;
    /// and the kernel alone equals the naive scatter out[o, n, 2i + ky, 2j + kx] += t[(o, ky, kx), (n, i, j)].
    @Test(arguments: shapes)
    func col2imTransposedIsStrideTwoTransposedConvolution(_ s: Shape) throws {
        try BLAS.load()
        var rng = TestRandom(seed: 3)
        let ci = s.channels
        let co = 2
        let hwIn = s.height * s.width
        let oh = 2 * s.height + 1
        let ow = 2 * s.width + 1
        let outCount = co * s.batch * oh * ow
        let x = rng.normals(ci * s.batch * hwIn)  // [I, N, H, W]
        let w = rng.normals(co * ci * 9)  // [O, I, 3, 3], the layer's weight
        var wt = [Float](repeating: 0, count: co * 9 * ci)  // [(o, ky, kx), i], as SynthesisWorkspace holds it
        for o in 0..<co { for i in 0..<ci { for k in 0..<9 { wt[(o * 9 + k) * ci + i] = w[(o * ci + i) * 9 + k] } } }
        var t = [Float](repeating: 0, count: co * 9 * s.count * hwIn)  // [O * 9, count * H * W]
        x.withUnsafeBufferPointer { xp in
            BLAS.sgemm(
                m: co * 9, n: s.count * hwIn, k: ci, a: wt, lda: ci, b: xp.baseAddress! + s.n0 * hwIn, ldb: s.batch * hwIn,
                c: &t, ldc: s.count * hwIn)
        }
        let base = rng.normals(outCount)  // [O, N, 2H + 1, 2W + 1]
        var out = Self.buffer(base)
        col2imTransposed3x3Accumulate(t, channels: co, batch: s.batch, height: s.height, width: s.width, samples: s.n0, count: s.count, into: &out)
        Self.expectTailUntouched(out, count: outCount, "col2imTransposed3x3Accumulate \(s)")

        var scatter = base.map(Double.init)
        var conv = base.map(Double.init)
        // PyTorch's transposed weight layout: [I, O, 3, 3] = weight.transpose(0, 1), unflipped.
        var wT = [Double](repeating: 0, count: ci * co * 9)
        for o in 0..<co { for i in 0..<ci { for k in 0..<9 { wT[(i * co + o) * 9 + k] = Double(w[(o * ci + i) * 9 + k]) } } }
        for n in 0..<s.count {
            let smp = s.n0 + n
            for o in 0..<co {
                for k in 0..<9 {
                    for i in 0..<s.height {
                        for j in 0..<s.width {
                            scatter[((o * s.batch + smp) * oh + 2 * i + k / 3) * ow + 2 * j + k % 3] +=
                                Double(t[(o * 9 + k) * s.count * hwIn + n * hwIn + i * s.width + j])
                        }
                    }
                }
            }
            var sample = [Double]()
            for c in 0..<ci { sample += x[((c * s.batch + smp) * hwIn)..<((c * s.batch + smp + 1) * hwIn)].map(Double.init) }
            let r = ReferenceOps.convTranspose2d(sample, channels: ci, height: s.height, width: s.width, weight: wT, outChannels: co, kernel: 3, stride: 2)
            #expect(r.height == oh && r.width == ow)
            for o in 0..<co { for p in 0..<(oh * ow) { conv[(o * s.batch + smp) * oh * ow + p] += r.out[o * oh * ow + p] } }
        }
        // The scatter: <= 4 taps (stride 2) added onto base in float32, <= 4 * 2^-24 of the partial sums.
        Self.expectClose(Array(out[..<outCount]), scatter, tol: 1e-6, "col2imTransposed3x3Accumulate vs naive scatter \(s)")
        // Plus sgemm's K = I <= 4 products per tap: <= (4 + 4) * 2^-24 ~ 5e-7 of sum|terms| (a few times the
        // output), and the reference shares no rounding with t; 1e-5 holds on any BLAS kernel.
        Self.expectClose(Array(out[..<outCount]), conv, tol: 1e-5, "sgemm + col2imTransposed vs conv_transpose2d \(s)")
    }

    /// im2colTransposed3x3 is the exact adjoint of col2imTransposed3x3Accumulate, fills all of its
    /// [O * 9, count * H * W] output and nothing past it.
    @Test(arguments: shapes)
    func im2colTransposedIsTheAdjoint(_ s: Shape) {
        var rng = TestRandom(seed: 4)
        let co = s.channels
        let hw = s.height * s.width
        let tCount = co * 9 * s.count * hw
        let outCount = co * s.batch * (2 * s.height + 1) * (2 * s.width + 1)
        let t = rng.normals(tCount)
        let g = rng.normals(outCount)  // [O, N, 2H + 1, 2W + 1]
        var out = [Float](repeating: 0, count: outCount)
        col2imTransposed3x3Accumulate(t, channels: co, batch: s.batch, height: s.height, width: s.width, samples: s.n0, count: s.count, into: &out)
        var gt = Self.buffer(Array(repeating: .nan, count: tCount))
        im2colTransposed3x3(g, channels: co, batch: s.batch, height: s.height, width: s.width, samples: s.n0, count: s.count, into: &gt)
        Self.expectTailUntouched(gt, count: tCount, "im2colTransposed3x3 \(s)")
        let gtBody = Array(gt[..<tCount])
        #expect(!gtBody.contains { $0.isNaN }, "\(s): im2colTransposed3x3 left elements unwritten")
        let lhs = ReferenceOps.dot(out, g)
        let rhs = ReferenceOps.dot(t, gtBody)
        print("kernel transposed adjoint \(s): <Ax, g> \(lhs) <x, A^T g> \(rhs)")
        // im2colTransposed copies; col2imTransposed sums <= 4 taps in float32: <= 4 * 2^-24 of absDot. The
        // 1e-12 covers absDot = 0 (float64 dots).
        #expect(abs(lhs - rhs) <= 1e-6 * ReferenceOps.absDot(t, gtBody) + 1e-12, "\(s): <col2imT t, g> \(lhs) != <t, im2colT g> \(rhs)")
    }

    /// im2col3x3Rows (any run of the batch's image rows, styles applied, columns in a wider matrix)
    /// equals the naive gather of the scaled input, and leaves the columns outside its slice alone.
    @Test(arguments: shapes)
    func im2colRowsIsTheScaledNaiveGather(_ s: Shape) {
        var rng = TestRandom(seed: 11)
        let hw = s.height * s.width
        let x = rng.normals(s.channels * s.batch * hw)  // [C, N, H, W]
        let scales = rng.normals(s.batch * s.channels)  // [N, C]
        var scaled = x
        for c in 0..<s.channels { for n in 0..<s.batch { for p in 0..<hw { scaled[(c * s.batch + n) * hw + p] *= scales[n * s.channels + c] } } }
        // Every row of the whole batch, as im2col of all samples.
        let all = Self.naiveIm2col(scaled, Shape(channels: s.channels, batch: s.batch, height: s.height, width: s.width, n0: 0, count: s.batch))
        let rowsTotal = s.batch * s.height
        let width = rowsTotal * s.width
        for rows in [0..<rowsTotal, (rowsTotal / 3)..<(rowsTotal - rowsTotal / 4), (rowsTotal - 1)..<rowsTotal] where !rows.isEmpty {
            // Into a [C * 9, all columns] matrix at the slice's place, the rest NaN.
            var cols = Self.buffer(Array(repeating: .nan, count: s.channels * 9 * width))
            cols.withUnsafeMutableBufferPointer { cp in
                im2col3x3Rows(
                    x, channels: s.channels, batch: s.batch, height: s.height, width: s.width, rows: rows, scales: scales,
                    into: cp.baseAddress! + rows.lowerBound * s.width, ldCols: width)
            }
            Self.expectTailUntouched(cols, count: s.channels * 9 * width, "im2col3x3Rows \(s) rows \(rows)")
            for r in 0..<(s.channels * 9) {
                for q in 0..<width {
                    let v = cols[r * width + q]
                    if rows.contains(q / s.width) {
                        // One float32 product x * s on both sides (bit-equal as written); 1e-6 relative (8 ulps)
                        // admits one extra rounding should the kernel fold the scale in elsewhere.
                        #expect(abs(v - all[r * width + q]) <= 1e-6 * max(1, abs(all[r * width + q])), "\(s) rows \(rows): row \(r) column \(q)")
                    } else {
                        #expect(v.isNaN, "\(s) rows \(rows): wrote column \(q) outside its slice")
                    }
                }
            }
        }
        // Unscaled and packed: im2col3x3 of a sample chunk.
        var packed = Self.buffer(Array(repeating: .nan, count: s.channels * 9 * s.count * hw))
        im2col3x3Rows(x, channels: s.channels, batch: s.batch, height: s.height, width: s.width, rows: s.n0 * s.height..<(s.n0 + s.count) * s.height, scales: nil, into: &packed)
        let expected = Self.naiveIm2col(x, s)
        #expect(Array(packed[..<expected.count]) == expected, "\(s): im2col3x3Rows of a sample chunk differs from im2col3x3")
        Self.expectTailUntouched(packed, count: expected.count, "im2col3x3Rows packed \(s)")
    }

    /// The fused up-sampling (transposedConv3x3UpFIR) equals its two-step reference:
    /// col2imTransposed3x3Accumulate into a zeroed [2H + 1, 2W + 1] grid, then upFirDn2d with padding
    /// 1 (both held against the naive definitions above); its backward is the exact adjoint.
    @Test(arguments: [(1, 1), (1, 2), (2, 3), (4, 4), (5, 3), (8, 9)])
    func fusedUpsamplingIsScatterThenFIR(_ size: (Int, Int)) {
        let (h, w) = size
        var rng = TestRandom(seed: 12)
        let tapStride = h * w + 5  // tap planes inside a wider GEMM row
        let t = rng.normals(9 * tapStride)
        let taps = Self.taps()
        // Reference: scatter, then FIR.
        var grid = [Float](repeating: 0, count: (2 * h + 1) * (2 * w + 1))
        var packed = [Float](repeating: 0, count: 9 * h * w)
        for k in 0..<9 { for p in 0..<(h * w) { packed[k * h * w + p] = t[k * tapStride + p] } }
        col2imTransposed3x3Accumulate(packed, channels: 1, batch: 1, height: h, width: w, samples: 0, count: 1, into: &grid)
        let axis = UpFirDnAxis(up: 1, pad0: 1, pad1: 1, taps: taps)
        #expect(axis.outputLength(2 * w + 1) == 2 * w)
        var reference = [Float](repeating: 0, count: 4 * h * w)
        var firScratch = [Float](repeating: 0, count: (2 * h + 1) * 2 * w)
        upFirDn2d(grid, planes: 1, height: 2 * h + 1, width: 2 * w + 1, axis: axis, into: &reference, scratch: &firScratch)

        var scratch = [Float](repeating: .nan, count: transposedConv3x3UpFIRScratch(height: h, width: w))
        var y = Self.buffer(Array(repeating: .nan, count: 4 * h * w))
        transposedConv3x3UpFIR(t, tapStride: tapStride, height: h, width: w, fir: taps, into: &y, scratch: &scratch)
        // Two float32 computations of the same sums in other orders: <= 4 scattered taps then 4 + 4
        // separable FIR taps, <= 2 * 12 * 2^-24 ~ 1.4e-6 of sum|terms| (the taps are positive, sum 2 per
        // axis); 1e-5 leaves margin. No BLAS.
        Self.expectClose(Array(y[..<(4 * h * w)]), reference.map(Double.init), tol: 1e-5, "transposedConv3x3UpFIR \(h)x\(w)")
        Self.expectTailUntouched(y, count: 4 * h * w, "transposedConv3x3UpFIR \(h)x\(w)")

        // Adjoint: <A t, g> = <t, A^T g>, and nothing written between the tap planes.
        let g = rng.normals(4 * h * w)
        var gt = Self.buffer(Array(repeating: .nan, count: 9 * tapStride))
        scratch = [Float](repeating: .nan, count: transposedConv3x3UpFIRScratch(height: h, width: w))
        transposedConv3x3UpFIRBackward(g, height: h, width: w, fir: taps, into: &gt, tapStride: tapStride, scratch: &scratch)
        var gtPacked = [Float](repeating: 0, count: 9 * h * w)
        for k in 0..<9 {
            for p in 0..<(h * w) { gtPacked[k * h * w + p] = gt[k * tapStride + p] }
            #expect(gt[(k * tapStride + h * w)..<((k + 1) * tapStride)].allSatisfy { $0.isNaN }, "\(h)x\(w): backward wrote between tap planes")
        }
        Self.expectTailUntouched(gt, count: 9 * tapStride, "transposedConv3x3UpFIRBackward \(h)x\(w)")
        let lhs = ReferenceOps.dot(Array(y[..<(4 * h * w)]), g)
        let rhs = ReferenceOps.dot(packed, gtPacked)
        print("kernel fused up adjoint \(h)x\(w): <Ax, g> \(lhs) <x, A^T g> \(rhs)")
        // Each side's float32 output errs by <= ~12 * 2^-24 = 7e-7 of its sum|terms|; summed against the
        // other vector that is <= ~1e-6 of sum |t| |A^T g| (here ~ absDot): 1e-5 leaves 10x.
        #expect(abs(lhs - rhs) <= 1e-5 * ReferenceOps.absDot(packed, gtPacked), "\(h)x\(w): <A t, g> \(lhs) != <t, A^T g> \(rhs)")
    }

    // MARK: - upfirdn2d

    struct FIRCase: Sendable, CustomStringConvertible {
        var up: Int
        var pad0: Int
        var pad1: Int
        var planes: Int
        var height: Int
        var width: Int
        var description: String { "up \(up) pad (\(pad0), \(pad1)) P\(planes) \(height)x\(width)" }
    }

    /// upsample2d's geometry (up 2, pad 2, 1) and the up-sampling conv's FIR (up 1, pad 1, 1), plus
    /// a lopsided pad, on non-square planes.
    static let firCases: [FIRCase] = [
        FIRCase(up: 2, pad0: 2, pad1: 1, planes: 3, height: 4, width: 5),
        FIRCase(up: 2, pad0: 2, pad1: 1, planes: 2, height: 1, width: 3),
        FIRCase(up: 1, pad0: 1, pad1: 1, planes: 4, height: 9, width: 7),
        FIRCase(up: 1, pad0: 2, pad1: 0, planes: 2, height: 5, width: 6),
    ]

    /// Per-axis filter a (asymmetric, so that a missing or double flip shows) and the 2D filter
    /// outer(a, a) that NVIDIA stores; the kernel takes a flipped with sqrt(gain) folded in.
    static let firA: [Double] = [0.1, 0.2, 0.5, 0.2]
    static let firGain = 4.0

    static func taps() -> [Float] { firA.reversed().map { Float($0 * firGain.squareRoot()) } }
    static func filter2D() -> [Double] { (0..<16).map { firA[$0 / 4] * firA[$0 % 4] } }

    @Test(arguments: firCases)
    func upFirDn2dIsNaiveUpfirdn2d(_ c: FIRCase) {
        var rng = TestRandom(seed: 5)
        let axis = UpFirDnAxis(up: c.up, pad0: c.pad0, pad1: c.pad1, taps: Self.taps())
        let oh = axis.outputLength(c.height)
        let ow = axis.outputLength(c.width)
        let x = rng.normals(c.planes * c.height * c.width)  // [P, H, W]
        var out = Self.buffer(Array(repeating: .nan, count: c.planes * oh * ow))  // [P, Hout, Wout]
        var scratch = [Float](repeating: 0, count: c.height * ow)
        upFirDn2d(x, planes: c.planes, height: c.height, width: c.width, axis: axis, into: &out, scratch: &scratch)
        let r = ReferenceOps.upfirdn2d(
            x.map(Double.init), planes: c.planes, height: c.height, width: c.width, filter: Self.filter2D(),
            filterHeight: 4, filterWidth: 4, up: c.up, padX0: c.pad0, padX1: c.pad1, padY0: c.pad0, padY1: c.pad1, gain: Self.firGain)
        #expect(r.height == oh && r.width == ow, "\(c): output \(oh)x\(ow), reference \(r.height)x\(r.width)")
        // Separable float32: 4 taps per axis pass (2 when up = 2), <= 8 roundings of partial sums of
        // positive taps: <= 8 * 2^-24 = 4.8e-7 of the output's size. The taps themselves are float32
        // (a * sqrt(gain), exact here: gain 4). No BLAS.
        Self.expectClose(Array(out[..<r.out.count]), r.out, tol: 1e-6, "upFirDn2d vs _upfirdn2d_ref \(c)")
        Self.expectTailUntouched(out, count: r.out.count, "upFirDn2d \(c)")
    }

    /// upFirDn2dBackward is the adjoint of upFirDn2d; with accumulate it adds to gx, without it overwrites.
    @Test(arguments: firCases)
    func upFirDn2dBackwardIsTheAdjoint(_ c: FIRCase) {
        var rng = TestRandom(seed: 6)
        let axis = UpFirDnAxis(up: c.up, pad0: c.pad0, pad1: c.pad1, taps: Self.taps())
        let oh = axis.outputLength(c.height)
        let ow = axis.outputLength(c.width)
        let xCount = c.planes * c.height * c.width
        let x = rng.normals(xCount)
        let g = rng.normals(c.planes * oh * ow)  // [P, Hout, Wout]
        var scratch = [Float](repeating: 0, count: c.height * ow)
        var y = [Float](repeating: 0, count: c.planes * oh * ow)
        upFirDn2d(x, planes: c.planes, height: c.height, width: c.width, axis: axis, into: &y, scratch: &scratch)
        var gx = Self.buffer(Array(repeating: .nan, count: xCount))
        upFirDn2dBackward(g, planes: c.planes, height: c.height, width: c.width, axis: axis, into: &gx, accumulate: false, scratch: &scratch)
        Self.expectTailUntouched(gx, count: xCount, "upFirDn2dBackward \(c)")
        let gxBody = Array(gx[..<xCount])
        let lhs = ReferenceOps.dot(y, g)
        let rhs = ReferenceOps.dot(x, gxBody)
        print("kernel upfirdn adjoint \(c): <Ax, g> \(lhs) <x, A^T g> \(rhs)")
        // Both float32 passes err by <= 8 * 2^-24 = 4.8e-7 of sum|terms| per element (positive taps);
        // the float64 dots carry that into <= ~5e-7 * absDot.
        #expect(abs(lhs - rhs) <= 1e-6 * ReferenceOps.absDot(x, gxBody), "\(c): <upfirdn x, g> \(lhs) != <x, backward g> \(rhs)")
        let base = rng.normals(xCount)
        var acc = base
        upFirDn2dBackward(g, planes: c.planes, height: c.height, width: c.width, axis: axis, into: &acc, accumulate: true, scratch: &scratch)
        // One float32 addition (or the same sum accumulated in another order): <= a few 2^-24.
        Self.expectClose(acc, zip(base, gxBody).map { Double($0) + Double($1) }, tol: 1e-6, "upFirDn2dBackward accumulate \(c)")
    }

    // MARK: - BLAS

    struct GemmCase: Sendable, CustomStringConvertible {
        var transA: Bool
        var transB: Bool
        var description: String { "transA \(transA) transB \(transB)" }
    }

    /// BLAS.sgemm against the triple loop for all four transposes, odd m, n, k, leading dimensions
    /// wider than the rows, alpha and beta not 1 / 0, and the padding columns of C left alone.
    @Test(arguments: [false, true].flatMap { a in [false, true].map { GemmCase(transA: a, transB: $0) } })
    func sgemmIsTheTripleLoop(_ c: GemmCase) throws {
        try BLAS.load()
        var rng = TestRandom(seed: 7)
        for (m, n, k) in [(5, 7, 3), (1, 9, 4), (6, 1, 11), (13, 17, 19)] {
            let aRows = c.transA ? k : m
            let aCols = c.transA ? m : k
            let bRows = c.transB ? n : k
            let bCols = c.transB ? k : n
            let lda = aCols + 2
            let ldb = bCols + 3
            let ldc = n + 1
            let a = rng.normals(aRows * lda)  // stored [aRows, lda]
            let b = rng.normals(bRows * ldb)  // stored [bRows, ldb]
            let c0 = rng.normals(m * ldc)  // [m, ldc]
            let alpha: Float = 0.75
            let beta: Float = -0.5
            var out = c0
            BLAS.sgemm(transA: c.transA, transB: c.transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &out, ldc: ldc)
            var expected = c0.map(Double.init)
            ReferenceOps.gemm(
                transA: c.transA, transB: c.transB, m: m, n: n, k: k, alpha: Double(alpha), a: a.map(Double.init), lda: lda,
                b: b.map(Double.init), ldb: ldb, beta: Double(beta), c: &expected, ldc: ldc)
            // K <= 19 products, alpha and beta: <= 21 * 2^-24 = 1.3e-6 of sum|terms| (~4x the output for
            // random signs): ~5e-6 worst, ~1e-7 typical; 1e-5 holds on any BLAS kernel.
            Self.expectClose(out, expected, tol: 1e-5, "sgemm \(c) m \(m) n \(n) k \(k)")
            for i in 0..<m { #expect(out[i * ldc + n] == c0[i * ldc + n], "sgemm \(c): wrote C's padding column in row \(i)") }
        }
    }

    /// The skinny kernels (few rows, for styles) against the triple loop: both layouts, alpha and
    /// beta, leading dimensions wider than the rows, and C's padding columns left alone.
    @Test(arguments: [false, true])
    func skinnyGEMMIsTheTripleLoop(_ transB: Bool) {
        var rng = TestRandom(seed: 13)
        for (m, n, k) in [(1, 1, 1), (1, 9, 4), (3, 17, 19), (8, 5, 33), (2, 130, 256)] {
            for (alpha, beta): (Float, Float) in [(1, 0), (0.75, -0.5), (0.5, 1)] {
                let lda = k + 2
                let bRows = transB ? n : k
                let bCols = transB ? k : n
                let ldb = bCols + 3
                let ldc = n + 1
                let a = rng.normals(m * lda)
                let b = rng.normals(bRows * ldb)
                let c0 = rng.normals(m * ldc)
                var out = c0
                if transB {
                    skinnyGEMMTransB(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &out, ldc: ldc)
                } else {
                    skinnyGEMM(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &out, ldc: ldc)
                }
                var expected = c0.map(Double.init)
                ReferenceOps.gemm(
                    transA: false, transB: transB, m: m, n: n, k: k, alpha: Double(alpha), a: a.map(Double.init), lda: lda,
                    b: b.map(Double.init), ldb: ldb, beta: Double(beta), c: &expected, ldc: ldc)
                // K <= 256 products in a fixed order (our kernel, no BLAS): typical sqrt(256) * 2^-24 ~ 1e-6
                // of the terms' size; the worst case (256 * 2^-24 = 1.5e-5 of sum|terms|) needs every
                // rounding to agree, which fixed random inputs do not do. 1e-5 of the largest output.
                Self.expectClose(out, expected, tol: 1e-5, "skinny GEMM transB \(transB) m \(m) n \(n) k \(k) alpha \(alpha) beta \(beta)")
                for i in 0..<m { #expect(out[i * ldc + n] == c0[i * ldc + n], "skinny GEMM: wrote C's padding column in row \(i)") }
            }
        }
    }

    // MARK: - Backward elementwise passes and the flipped weight

    /// convEpilogueBackward against its plain loop, at lengths that leave a scalar tail, with
    /// activations beyond the clamp, negative and positive, with and without noise: elementwise
    /// outputs bit for bit, the double sums to 1e-12 relative.
    @Test(arguments: [1, 7, 8, 16, 29, 64, 1024])
    func epilogueBackwardIsThePlainLoop(_ count: Int) {
        var rng = TestRandom(seed: UInt64(count))
        for withNoise in [false, true] {
            let out = rng.normals(count).map { $0 * 3 }  // some beyond the clamp of 2.5
            let g0 = rng.normals(count)
            let y0 = rng.normals(count)
            let noise = rng.normals(count)
            let gn0 = rng.normals(count)
            var gFast = Self.buffer(g0), gRef = Self.buffer(g0)
            var nFast = Self.buffer(gn0), nRef = Self.buffer(gn0)
            func run(_ g: inout [Float], _ gn: inout [Float], reference: Bool) -> EpilogueBackwardSums {
                g.withUnsafeMutableBufferPointer { gp in
                    gn.withUnsafeMutableBufferPointer { np in
                        let kernel = reference ? convEpilogueBackwardReference : convEpilogueBackward
                        return noise.withUnsafeBufferPointer { noiseP in
                            kernel(
                                out, gp.baseAddress!, y0, withNoise ? noiseP.baseAddress! : nil, withNoise ? np.baseAddress! : nil,
                                count, 0.7, 2.5, Float(2).squareRoot())
                        }
                    }
                }
            }
            let fast = run(&gFast, &nFast, reference: false)
            let ref = run(&gRef, &nRef, reference: true)
            #expect(Array(gFast[..<count]) == Array(gRef[..<count]), "epilogue backward gradient, count \(count) noise \(withNoise)")
            #expect(Array(nFast[..<count]) == Array(nRef[..<count]), "epilogue backward noise gradient, count \(count) noise \(withNoise)")
            Self.expectTailUntouched(gFast, count: count, "epilogue backward gradient")
            Self.expectTailUntouched(nFast, count: count, "epilogue backward noise gradient")
            let pairs: [(Double, Double, String)] = [
                (fast.gradient, ref.gradient, "sum gv"), (fast.gradientTimesY0, ref.gradientTimesY0, "sum gv y0"),
                (fast.gradientTimesNoise, ref.gradientTimesNoise, "sum gv noise"),
            ]
            for (a, b, name) in pairs {
                // The same float64 sums in another order: <= count * 2^-53 * sum|terms|, sum|terms| <~ 3 count,
                // so <= 3.3e-16 count^2 <= 1e-12 * count for count <= 3,000 (1,024 here).
                #expect(abs(a - b) <= 1e-12 * max(1, Double(count)), "epilogue backward \(name), count \(count): \(a) vs \(b)")
            }
            if !withNoise { #expect(fast.gradientTimesNoise == 0) }
        }
    }

    /// styleScaleBackward against its plain loop: gx bit for bit, the sum to float rounding.
    @Test(arguments: [1, 7, 16, 29, 64, 1024])
    func styleScaleBackwardIsThePlainLoop(_ count: Int) {
        var rng = TestRandom(seed: 100 + UInt64(count))
        let gxs = rng.normals(count)
        let x = rng.normals(count)
        let gx0 = rng.normals(count)
        var gFast = Self.buffer(gx0), gRef = Self.buffer(gx0)
        let fast = styleScaleBackward(gxs: gxs, x: x, gx: &gFast, scale: -1.3, count: count)
        let ref = styleScaleBackwardReference(gxs: gxs, x: x, gx: &gRef, scale: -1.3, count: count)
        #expect(Array(gFast[..<count]) == Array(gRef[..<count]), "styleScaleBackward gx, count \(count)")
        Self.expectTailUntouched(gFast, count: count, "styleScaleBackward gx")
        let exact = ReferenceOps.dot(gxs, x)
        // A float32 sum of `count` N(0,1) products whose partial sums grow like sqrt(i): typical error
        // ~2^-24 * count / sqrt(2) (4e-5 at 1,024) against 4e-5 * sqrt(count) (1.3e-3 at 1,024, 4e-5 at 1).
        #expect(abs(Double(fast) - exact) <= 1e-5 * Double(count).squareRoot() * 4, "styleScaleBackward sum, count \(count): \(fast) vs \(exact)")
        #expect(abs(Double(ref) - exact) <= 1e-5 * Double(count).squareRoot() * 4)
    }

    /// The input gradient of a 3x3 conv as lowered by the backward (im2col3x3Rows of the output
    /// gradient times `flippedTransposedConv3x3Weight`) equals the naive adjoint: W^T g scattered
    /// back over the taps (col2im of the naive im2col's adjoint).
    @Test(arguments: [(1, 1), (3, 2), (2, 5)])
    func flippedWeightConvIsTheAdjoint(_ channels: (Int, Int)) throws {
        try BLAS.load()
        let (co, ci) = channels
        var rng = TestRandom(seed: UInt64(co * 10 + ci))
        for s in Self.shapes {
            let hw = s.height * s.width
            let w = rng.normals(co * ci * 9)  // [O, I, 3, 3]
            let g = rng.normals(co * s.batch * hw)  // [O, N, H, W]
            var expected = [Double](repeating: 0, count: ci * s.batch * hw)  // [I, N, H, W]
            for o in 0..<co {
                for i in 0..<ci {
                    for k in 0..<9 {
                        for n in 0..<s.batch {
                            for h in 0..<s.height {
                                for x in 0..<s.width {
                                    let sy = h + k / 3 - 1
                                    let sx = x + k % 3 - 1
                                    guard sy >= 0, sy < s.height, sx >= 0, sx < s.width else { continue }
                                    expected[((i * s.batch + n) * s.height + sy) * s.width + sx] +=
                                        Double(w[(o * ci + i) * 9 + k]) * Double(g[((o * s.batch + n) * s.height + h) * s.width + x])
                                }
                            }
                        }
                    }
                }
            }
            var wf = Self.buffer([Float](repeating: .nan, count: ci * co * 9))
            flippedTransposedConv3x3Weight(w, outChannels: co, inChannels: ci, into: &wf)
            Self.expectTailUntouched(wf, count: ci * co * 9, "flippedTransposedConv3x3Weight")
            let columns = s.batch * hw
            var cols = [Float](repeating: .nan, count: co * 9 * columns)
            im2col3x3Rows(g, channels: co, batch: s.batch, height: s.height, width: s.width, rows: 0..<(s.batch * s.height), scales: nil, into: &cols)
            var gx = [Float](repeating: .nan, count: ci * columns)
            BLAS.sgemm(m: ci, n: columns, k: co * 9, a: wf, lda: co * 9, b: cols, ldb: columns, c: &gx, ldc: columns)
            // sgemm over K = 9 O <= 27 products: as im2colGemmIsDirectConvolution, <= 1.6e-6 of sum|terms|.
            Self.expectClose(gx, expected, tol: 1e-5, "flipped-weight conv vs naive adjoint \(s) O\(co) I\(ci)")
        }
    }

    // MARK: - Winograd F(4x4, 3x3)

    /// (in channels, out channels, batch, height, width, tile rows): grids in multiples of 4,
    /// tile-row ranges that start and end inside samples, a single tile, rows of 1 to 8 tiles (the
    /// transforms take four tiles at a time, the rest one by one).
    struct WinogradCase: Sendable, CustomStringConvertible {
        var ci: Int, co: Int, batch: Int, height: Int, width: Int, rows: Range<Int>
        var description: String { "I\(ci) O\(co) N\(batch) \(height)x\(width) tile rows \(rows)" }
    }

    static let winogradCases: [WinogradCase] = [
        WinogradCase(ci: 1, co: 1, batch: 1, height: 4, width: 4, rows: 0..<1),
        WinogradCase(ci: 3, co: 2, batch: 2, height: 8, width: 12, rows: 0..<4),
        WinogradCase(ci: 2, co: 5, batch: 3, height: 12, width: 8, rows: 2..<7),
        WinogradCase(ci: 7, co: 3, batch: 2, height: 8, width: 8, rows: 1..<3),
        WinogradCase(ci: 16, co: 16, batch: 1, height: 16, width: 16, rows: 0..<4),
        WinogradCase(ci: 3, co: 4, batch: 2, height: 4, width: 24, rows: 1..<2),
        WinogradCase(ci: 5, co: 2, batch: 1, height: 8, width: 32, rows: 0..<2),
    ]

    /// winogradConv3x3 (input transform, 16 GEMMs, output transform) equals the direct 3x3
    /// correlation, padding 1, of the scaled input, on exactly the output rows of its tile rows;
    /// every other output row keeps its NaN and nothing is written past the output.
    @Test(arguments: winogradCases)
    func winogradIsDirectCorrelation(_ c: WinogradCase) throws {
        try BLAS.load()
        var rng = TestRandom(seed: UInt64(c.ci * 100 + c.co * 10 + c.batch))
        let hw = c.height * c.width
        let x = rng.normals(c.ci * c.batch * hw)  // [I, N, H, W]
        let w = rng.normals(c.co * c.ci * 9)  // [O, I, 3, 3]
        let scales = rng.normals(c.batch * c.ci, scale: 0.5, offset: 1)  // [N, I]
        let positions = winogradPositions * c.co * c.ci
        var u = Self.buffer([Float](repeating: .nan, count: positions))  // [36, O, I]
        winogradWeightTransform3x3(w, outChannels: c.co, inChannels: c.ci, into: &u)
        Self.expectTailUntouched(u, count: positions, "winogradWeightTransform3x3")
        let tiles = WinogradTiles(batch: c.batch, height: c.height, width: c.width, rows: c.rows)
        let scratch = winogradScratch(rows: max(c.ci, c.co), tiles: tiles.count)
        var v = [Float](repeating: .nan, count: scratch)
        var m = [Float](repeating: .nan, count: scratch)
        var pad = [Float](repeating: .nan, count: tiles.padScratch)
        var y = Self.buffer([Float](repeating: .nan, count: c.co * c.batch * hw))  // [O, N, H, W]
        winogradConv3x3(x, inChannels: c.ci, scales: scales, weights: u, outChannels: c.co, tiles: tiles, into: &y, v: &v, m: &m, pad: &pad)
        Self.expectTailUntouched(y, count: c.co * c.batch * hw, "winogradConv3x3")
        // Output rows of the tile rows: global image row n * H + h lies in 4 rows.lowerBound ..< 4 rows.upperBound.
        var got: [Float] = []
        var expected: [Double] = []
        for o in 0..<c.co {
            for n in 0..<c.batch {
                for h in 0..<c.height {
                    let inside = c.rows.contains((n * c.height + h) / winogradTileSize)
                    for x0 in 0..<c.width {
                        let value = y[((o * c.batch + n) * c.height + h) * c.width + x0]
                        if !inside {
                            #expect(value.isNaN, "wrote output row \(h) of sample \(n) outside tile rows \(c.rows)")
                            continue
                        }
                        var acc = 0.0
                        for i in 0..<c.ci {
                            for k in 0..<9 {
                                let sy = h + k / 3 - 1, sx = x0 + k % 3 - 1
                                guard sy >= 0, sy < c.height, sx >= 0, sx < c.width else { continue }
                                acc += Double(w[(o * c.ci + i) * 9 + k]) * Double(scales[n * c.ci + i])
                                    * Double(x[((i * c.batch + n) * c.height + sy) * c.width + sx])
                            }
                        }
                        got.append(value)
                        expected.append(acc)
                    }
                }
            }
        }
        #expect(!got.isEmpty)
        // Winograd's transforms (A^T rows up to 1 1 8 8 1, B^T up to 4 5 1) scale the rounding of the
        // K = I <= 16 channel sums ~4-5x over direct (README: 4e-6 vs 1e-6 on the goldens): measured
        // 3.8e-6 of the scale at I16 (either OpenBLAS kernel), ~1e-6 direct. 2e-5 leaves 5x; 1e-5 left 2.6x.
        Self.expectClose(got, expected, tol: 2e-5, "winograd vs direct correlation \(c)")
    }

    /// The weight gradient in the transformed domain (output-gradient transform, 36 GEMMs, the weight
    /// transform's adjoint) equals the direct sum over the tile rows' output pixels of dY[o] times the
    /// scaled input shifted by the tap; the gradient accumulates into what dw held, and nothing is
    /// written past dw or dU.
    @Test(arguments: winogradCases)
    func winogradWeightGradientIsDirectSum(_ c: WinogradCase) throws {
        try BLAS.load()
        var rng = TestRandom(seed: UInt64(c.ci * 31 + c.co * 7 + c.batch))
        let hw = c.height * c.width
        let x = rng.normals(c.ci * c.batch * hw)  // [I, N, H, W]
        let gy = rng.normals(c.co * c.batch * hw)  // [O, N, H, W]
        let scales = rng.normals(c.batch * c.ci, scale: 0.5, offset: 1)  // [N, I]
        let before = rng.normals(c.co * c.ci * 9)  // what dw holds already
        let tiles = WinogradTiles(batch: c.batch, height: c.height, width: c.width, rows: c.rows)
        let ldv = winogradPositionStride(rows: c.ci, tiles: tiles.count)
        let ldm = winogradPositionStride(rows: c.co, tiles: tiles.count)
        let ldu = winogradPositionStride(rows: c.co, tiles: c.ci)
        var v = [Float](repeating: .nan, count: winogradPositions * ldv)
        var m = [Float](repeating: .nan, count: winogradPositions * ldm)
        var pad = [Float](repeating: .nan, count: tiles.padScratch)
        var du = Self.buffer([Float](repeating: 0, count: winogradPositions * ldu))  // [36, O, I]
        winogradInputTransform(x, channels: c.ci, scales: scales, tiles: tiles, into: &v, ldv: ldv, pad: &pad)
        winogradOutputGradientTransform(gy, channels: c.co, tiles: tiles, into: &m, ldm: ldm)
        // The positions in two calls, as the engine splits them.
        winogradWeightGradientMultiply(m, ldm: ldm, v, ldv: ldv, outChannels: c.co, inChannels: c.ci, tiles: tiles.count, positions: 0..<13, into: &du, ldu: ldu)
        winogradWeightGradientMultiply(m, ldm: ldm, v, ldv: ldv, outChannels: c.co, inChannels: c.ci, tiles: tiles.count, positions: 13..<36, into: &du, ldu: ldu)
        Self.expectTailUntouched(du, count: winogradPositions * ldu, "winogradWeightGradientMultiply")
        var dw = Self.buffer(before)  // [O, I, 3, 3]
        winogradWeightGradientTransform3x3(du, ldu: ldu, outChannels: c.co, inChannels: c.ci, outputs: 0..<(c.co / 2), into: &dw)
        winogradWeightGradientTransform3x3(du, ldu: ldu, outChannels: c.co, inChannels: c.ci, outputs: (c.co / 2)..<c.co, into: &dw)
        Self.expectTailUntouched(dw, count: c.co * c.ci * 9, "winogradWeightGradientTransform3x3")
        var expected = before.map(Double.init)
        for o in 0..<c.co {
            for i in 0..<c.ci {
                for k in 0..<9 {
                    var acc = 0.0
                    for n in 0..<c.batch {
                        for h in 0..<c.height where c.rows.contains((n * c.height + h) / winogradTileSize) {
                            for x0 in 0..<c.width {
                                let sy = h + k / 3 - 1, sx = x0 + k % 3 - 1
                                guard sy >= 0, sy < c.height, sx >= 0, sx < c.width else { continue }
                                acc += Double(gy[((o * c.batch + n) * c.height + h) * c.width + x0]) * Double(scales[n * c.ci + i])
                                    * Double(x[((i * c.batch + n) * c.height + sy) * c.width + sx])
                            }
                        }
                    }
                    expected[(o * c.ci + i) * 9 + k] += acc
                }
            }
        }
        // The sums run over T tiles (K = T <= 16 here) through transforms with entries up to 8 and
        // 1/24: as the forward's test, measured 4e-6 of the scale at most; 2e-5 leaves 5x.
        Self.expectClose(Array(dw[0..<(c.co * c.ci * 9)]), expected, tol: 2e-5, "winograd weight gradient vs direct sum \(c)")
    }

    /// The flipped, transposed weight's transform gives the conv's input gradient (the backward's
    /// use): correlating g [O, N, H, W] with it equals the naive adjoint of the forward correlation.
    @Test(arguments: [(2, 3), (5, 1)])
    func winogradFlippedWeightIsTheAdjoint(_ channels: (Int, Int)) throws {
        try BLAS.load()
        let (co, ci) = channels
        let (n, h, wd) = (2, 8, 12)
        let hw = h * wd
        var rng = TestRandom(seed: UInt64(co * 7 + ci))
        let w = rng.normals(co * ci * 9)
        let g = rng.normals(co * n * hw)
        var wf = [Float](repeating: .nan, count: ci * co * 9)
        flippedTransposedConv3x3Weight(w, outChannels: co, inChannels: ci, into: &wf)
        var uf = [Float](repeating: .nan, count: winogradPositions * ci * co)
        winogradWeightTransform3x3(wf, outChannels: ci, inChannels: co, into: &uf)
        let tiles = WinogradTiles(batch: n, height: h, width: wd, rows: 0..<(n * h / winogradTileSize))
        let scratch = winogradScratch(rows: max(ci, co), tiles: tiles.count)
        var v = [Float](repeating: .nan, count: scratch)
        var m = [Float](repeating: .nan, count: scratch)
        var pad = [Float](repeating: .nan, count: tiles.padScratch)
        var gx = [Float](repeating: .nan, count: ci * n * hw)
        winogradConv3x3(g, inChannels: co, scales: nil, weights: uf, outChannels: ci, tiles: tiles, into: &gx, v: &v, m: &m, pad: &pad)
        var expected = [Double](repeating: 0, count: ci * n * hw)
        for o in 0..<co {
            for i in 0..<ci {
                for k in 0..<9 {
                    for smp in 0..<n {
                        for y in 0..<h {
                            for x in 0..<wd {
                                let sy = y + k / 3 - 1, sx = x + k % 3 - 1
                                guard sy >= 0, sy < h, sx >= 0, sx < wd else { continue }
                                expected[((i * n + smp) * h + sy) * wd + sx] += Double(w[(o * ci + i) * 9 + k]) * Double(g[((o * n + smp) * h + y) * wd + x])
                            }
                        }
                    }
                }
            }
        }
        // As winogradIsDirectCorrelation (K = O <= 5 channel sums through the same transforms).
        Self.expectClose(gx, expected, tol: 2e-5, "winograd flipped-weight conv vs naive adjoint O\(co) I\(ci)")
    }
}
