// A plain (unmodulated) 3x3 convolution, stride 1, padding 1, over channel-major batches: VGG16's
// layers, and with flipped weights (`flippedTransposedConv3x3Weight`) their input gradients.
//
// Dimension letters: I input and O output channels, N batch, H x W the grid (the same in and out).
// Activations are [C, N, H, W], so a batch shares each GEMM: y [O, N H W] = w [O, I 9] cols [I 9, N H W].

/// How one plain 3x3 convolution of a given shape is cut into pieces, and the scratch it needs.
///
/// Two cuts, both into pieces that depend on the shape alone (never on the worker count, so the bits
/// do not either; see `Parallel.forEachPiece`):
/// - by image rows (of the batch's N H rows): each worker lowers its rows (`im2col3x3Rows`) into its
///   own slice of the scratch and multiplies them by the whole weight, while they are in cache;
/// - by output channels, on small grids (fewer columns N H W than output channels, the weight the
///   larger operand): the columns are lowered once and each piece multiplies its rows of the weight.
public struct PlainConv3x3: Sendable {
    public let inChannels: Int  // I
    public let outChannels: Int  // O
    public let batch: Int  // N
    public let height: Int  // H
    public let width: Int  // W
    /// Workers the pieces are spread over (1 for small layers, where forking costs more than it saves).
    public let parts: Int
    /// Whether the pieces are ranges of output channels (else ranges of image rows).
    let byOutputChannels: Bool
    let pieces: Int
    /// Floats of one worker's slice of lowered columns (row cut).
    let sliceStride: Int
    /// Floats of scratch `forward` needs.
    public let scratchCount: Int

    /// Lowered columns a worker keeps at most (floats), unless one image row needs more: 4 MiB, so
    /// that OpenBLAS's packing of the weight, which every piece repeats, stays small beside the
    /// multiply. (1, 4 and 16 MiB timed alike, within this machine's noise, at N 8 x 64 px and
    /// N 1 x 256 px.)
    public static let sliceBudget = 1 << 20

    /// `threads` workers at most (the default: `Parallel.threads`).
    public init(inChannels: Int, outChannels: Int, batch: Int, height: Int, width: Int, threads: Int = Parallel.threads) {
        precondition(inChannels >= 1 && outChannels >= 1 && batch >= 1 && height >= 1 && width >= 1 && threads >= 1)
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.batch = batch
        self.height = height
        self.width = width
        let columns = batch * height * width
        let flops = 2 * Double(outChannels) * Double(9 * inChannels) * Double(columns)
        // Two pieces below 64 MFLOP, four above: 1 or 2 workers get equal shares; none below 4 MFLOP.
        let quantum = flops < 4e6 ? 1 : flops < 64e6 ? 2 : 4
        parts = flops < 4e6 ? 1 : min(threads, quantum)
        byOutputChannels = columns < outChannels
        let rowFloats = 9 * inChannels * width
        if byOutputChannels {
            pieces = Parallel.pieceCount(units: outChannels, quantum: quantum)
            sliceStride = 9 * inChannels * columns
            scratchCount = sliceStride
        } else {
            pieces = Parallel.pieceCount(
                units: batch * height, maxUnitsPerPiece: max(1, Self.sliceBudget / rowFloats), quantum: quantum)
            let rowsPerPiece = (batch * height + pieces - 1) / pieces
            sliceStride = (rowsPerPiece * rowFloats + 15) / 16 * 16
            scratchCount = parts * sliceStride
        }
    }

    /// y [O, N, H, W] <- the correlation of x [I, N, H, W] with `weight` [O, I, 3, 3] (read as
    /// [O, I 9]), plus `bias` [O] when given, then max(0, .) when `relu`. `scratch` holds
    /// `scratchCount` floats; no pointer may alias another.
    public func forward(
        _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, relu: Bool,
        into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        let (ci, co, n, h, w) = (inChannels, outChannels, batch, height, width)
        let k = 9 * ci
        let columns = n * h * w
        nonisolated(unsafe) let (x, weight, bias, y, scratch) = (x, weight, bias, y, scratch)
        if byOutputChannels {
            im2col3x3Rows(x, channels: ci, batch: n, height: h, width: w, rows: 0..<(n * h), scales: nil, into: scratch)
            Parallel.forEachPiece(co, pieces: pieces, maxParts: parts) { _, _, range in
                BLAS.sgemm(
                    m: range.count, n: columns, k: k, a: weight + range.lowerBound * k, lda: k, b: scratch, ldb: columns,
                    c: y + range.lowerBound * columns, ldc: columns)
                Self.finish(y, channels: range, columns: 0..<columns, ldy: columns, bias: bias, relu: relu)
            }
        } else {
            let stride = sliceStride
            Parallel.forEachPiece(n * h, pieces: pieces, maxParts: parts) { part, _, rows in
                let cols = scratch + part * stride
                let count = rows.count * w
                im2col3x3Rows(x, channels: ci, batch: n, height: h, width: w, rows: rows, scales: nil, into: cols)
                BLAS.sgemm(m: co, n: count, k: k, a: weight, lda: k, b: cols, ldb: count, c: y + rows.lowerBound * w, ldc: columns)
                Self.finish(y, channels: 0..<co, columns: rows.lowerBound * w..<rows.upperBound * w, ldy: columns, bias: bias, relu: relu)
            }
        }
    }

    /// The bias and ReLU on y's `channels` x `columns` block, while it is in cache.
    @inline(__always)
    static func finish(
        _ y: UnsafeMutablePointer<Float>, channels: Range<Int>, columns: Range<Int>, ldy: Int, bias: UnsafePointer<Float>?, relu: Bool
    ) {
        if bias == nil && !relu { return }
        for o in channels {
            let row = y + o * ldy
            let b = bias?[o] ?? 0
            if relu {
                for j in columns { row[j] = max(row[j] + b, 0) }
            } else {
                for j in columns { row[j] += b }
            }
        }
    }

    /// The plain reference: direct loops in float64, y [O, N, H, W] from x [I, N, H, W], weight
    /// [O, I, 3, 3] and bias [O] (or none), then ReLU when asked.
    public static func reference(
        _ x: [Double], inChannels ci: Int, batch n: Int, height h: Int, width w: Int,
        weight: [Double], outChannels co: Int, bias: [Double]?, relu: Bool
    ) -> [Double] {
        precondition(x.count == ci * n * h * w && weight.count == co * ci * 9 && (bias?.count ?? co) == co)
        var y = [Double](repeating: 0, count: co * n * h * w)
        for o in 0..<co {
            for s in 0..<n {
                for i in 0..<h {
                    for j in 0..<w {
                        var sum = bias?[o] ?? 0
                        for c in 0..<ci {
                            for ky in 0..<3 {
                                let yy = i + ky - 1
                                if yy < 0 || yy >= h { continue }
                                for kx in 0..<3 {
                                    let xx = j + kx - 1
                                    if xx < 0 || xx >= w { continue }
                                    sum += weight[((o * ci + c) * 3 + ky) * 3 + kx] * x[((c * n + s) * h + yy) * w + xx]
                                }
                            }
                        }
                        y[((o * n + s) * h + i) * w + j] = relu ? max(sum, 0) : sum
                    }
                }
            }
        }
        return y
    }
}
