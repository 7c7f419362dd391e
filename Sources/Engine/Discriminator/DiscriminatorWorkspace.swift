// Buffers for one batch size of one discriminator, allocated once and reused every step (nothing
// is allocated inside a forward or backward but the tensors handed back).
//
// Dimension letters: N batch, T a block's channels inside, O its output channels, R x R its grid,
// Rh = R / 2, U = R + 1 (the FIR-filtered grid conv1 strides over), C and F the epilogue's channels
// and minibatch-std features. Activations are channel-major, [C, N, H, W].

/// What a discriminator's forward leaves for its backward, and the scratch both use.
public final class DiscriminatorWorkspace: @unchecked Sendable {
    public let batch: Int
    /// Workers the passes split over (Parallel.threads when made). It decides who computes what, never
    /// what is computed: the pieces do not depend on it (see `Parallel.forEachPiece`).
    public let threads: Int
    /// A phase gets one worker per this many FLOPs (at most `threads`); 0 splits every phase (tests).
    public let minimumFLOPsPerWorker: Double
    /// Floats of lowered columns one worker holds for one GEMM piece (and half of one worker's
    /// Winograd operand).
    public let columnBudget: Int
    /// Stride-1 3x3 convs on grids from this size up run by Winograd F(4x4, 3x3) (Int.max: never).
    public let winogradFrom: Int
    /// Every split cuts its work into a multiple of this many pieces (when there are that many
    /// units), so 1, 2 or 4 workers get equal shares: the synthesis workspace's quantum.
    static let pieceQuantum = SynthesisWorkspace.pieceQuantum
    public static let defaultWinogradFrom = 16

    final class BlockState {
        let rgb: Buffer?  // [T, N, R, R] fromrgb's output: the first block's x
        let h: Buffer  // [T, N, R, R] conv0's output
        let z: Buffer  // [O, N, Rh, Rh] conv1's output (after its gain and clamp)
        let out: Buffer  // [O, N, Rh, Rh] skip + conv1: the block's x
        let gOut: Buffer  // [O, N, Rh, Rh]

        init(_ b: DiscriminatorBlock, batch n: Int) {
            let hw = b.resolution * b.resolution
            let hwh = hw / 4
            rgb = b.fromrgb == nil ? nil : Buffer(count: b.tmpChannels * n * hw)
            h = Buffer(count: b.tmpChannels * n * hw)
            z = Buffer(count: b.outChannels * n * hwh)
            out = Buffer(count: b.outChannels * n * hwh)
            gOut = Buffer(count: b.outChannels * n * hwh)
        }
    }

    let blocks: [BlockState]
    /// Each block's R and O, for `activation` (which has no discriminator at hand).
    let blockResolutions: [Int]
    let blockOutChannels: [Int]
    /// Every layer's weight shape, flattened: the passes check that they run the network this
    /// workspace was sized for.
    let layout: [Int]
    let image: Buffer  // [3, N, R, R] the input, channel-major
    let gImage: Buffer  // [3, N, R, R]
    let gRgb: Buffer  // [T, N, R, R] of the first block
    let gH: Buffer  // [T, N, R, R] at the largest block
    /// [T, N, U, U]: conv1's FIR-filtered input in the forward, its gradient in the backward.
    let u: Buffer
    /// [T, N, Rh, Rh]: skip's down-sampled input in the forward, its gradient in the backward.
    let v: Buffer
    let gZ: Buffer  // [O, N, Rh, Rh] conv1's gradient through its activation
    /// Per-worker lowered columns (`colsStride` floats apart).
    let cols: Buffer
    let colsStride: Int
    /// Per-worker FIR scratch (`firStride` floats apart).
    let firScratch: Buffer
    let firStride: Int
    /// Per-worker Winograd operands V [36, I, T] and M [36, O, T] for a piece of tile rows, and the
    /// padded input rows (`winogradStride` and `winogradPadStride` floats apart).
    let winogradV: Buffer
    let winogradM: Buffer
    let winogradStride: Int
    let winogradPad: Buffer
    let winogradPadStride: Int
    /// [T, N, R, R]: a Winograd input gradient before it is added in.
    let gTmp: Buffer

    // The epilogue.
    let mbstd: Buffer  // [C + F, N, 4, 4]
    let conv: Buffer  // [C, N, 4, 4]
    let convFlat: Buffer  // [N, C * 16]: conv's output as NVIDIA flattens it, fc's input
    let fc: Buffer  // [N, C]
    let logits: Buffer  // [N, 1]
    let gMbstd: Buffer  // [C + F, N, 4, 4]
    let gConv: Buffer  // [C, N, 4, 4]
    let gConvFlat: Buffer  // [N, C * 16]
    let gFc: Buffer  // [N, C]
    let gLogits: Buffer  // [N, 1]

    /// The last output the latest forward computed (nil before any).
    public internal(set) var forwardThrough: DiscriminatorOutput?

    /// Buffers for `discriminator` at batch `batch`.
    public init(
        discriminator d: Discriminator, batch: Int, columnBudget: Int = 1 << 18, minimumFLOPsPerWorker: Double = 2e6,
        winogradFrom: Int = DiscriminatorWorkspace.defaultWinogradFrom, threads: Int = Parallel.threads
    ) {
        precondition(batch >= 1 && threads >= 1 && columnBudget >= 1)
        self.batch = batch
        self.threads = threads
        self.minimumFLOPsPerWorker = minimumFLOPsPerWorker
        self.columnBudget = columnBudget
        self.winogradFrom = winogradFrom
        let n = batch
        blocks = d.blocks.map { BlockState($0, batch: n) }
        blockResolutions = d.blocks.map(\.resolution)
        blockOutChannels = d.blocks.map(\.outChannels)
        layout = Self.layout(of: d)
        let r0 = d.config.imgResolution
        image = Buffer(count: d.config.imgChannels * n * r0 * r0)
        gImage = Buffer(count: d.config.imgChannels * n * r0 * r0)
        gRgb = Buffer(count: (d.blocks.first?.tmpChannels ?? 0) * n * r0 * r0)
        var hCount = 1, uCount = 1, vCount = 1, zCount = 1, colsCount = 1, firCount = 1, winogradCount = 1, padCount = 1
        for b in d.blocks {
            let r = b.resolution, rh = r / 2, t = b.tmpChannels, o = b.outChannels
            let uu = b.filteredResolution
            hCount = max(hCount, t * n * r * r)
            uCount = max(uCount, t * n * uu * uu)
            vCount = max(vCount, t * n * rh * rh)
            zCount = max(zCount, o * n * rh * rh)
            // conv0 forward and backward (9 T rows a column both ways), conv1 forward and backward.
            colsCount = max(colsCount, Self.rowPlan(rows: n * r, k: 9 * t, width: r, budget: columnBudget).floats)
            colsCount = max(colsCount, Self.rowPlan(rows: n * rh, k: 9 * t, width: rh, budget: columnBudget).floats)
            firCount = max(firCount, b.conv1.firAxis.scratchCount(height: r, width: r), b.skip.firAxis.scratchCount(height: r, width: r))
        }
        let e = d.epilogue
        let c = e.channels, cf = e.conv.inChannels
        // The stride-1 3x3 convs (each block's conv0, the epilogue's conv) that run by Winograd.
        var tmpCount = 1
        for (r, channels) in d.blocks.map({ ($0.resolution, $0.tmpChannels) }) + [(4, cf)]
        where Self.usesWinograd(resolution: r, from: winogradFrom) {
            winogradCount = max(winogradCount, Self.winogradPlan(batch: n, resolution: r, channels: channels, budget: columnBudget).floats)
            padCount = max(padCount, WinogradTiles.padScratch(width: r))
            tmpCount = max(tmpCount, channels * n * r * r)
        }
        colsCount = max(colsCount, Self.rowPlan(rows: n * 4, k: 9 * cf, width: 4, budget: columnBudget).floats)
        colsCount = max(colsCount, Self.rowPlan(rows: n * 4, k: 9 * c, width: 4, budget: columnBudget).floats)
        gH = Buffer(count: hCount)
        u = Buffer(count: uCount)
        v = Buffer(count: vCount)
        gZ = Buffer(count: zCount)
        colsStride = (colsCount + 15) / 16 * 16  // every worker's slice 64-byte aligned
        cols = Buffer(count: colsStride * threads)
        firStride = (firCount + 15) / 16 * 16
        firScratch = Buffer(count: firStride * threads)
        winogradStride = (winogradCount + 15) / 16 * 16
        winogradV = Buffer(count: winogradStride * threads)
        winogradM = Buffer(count: winogradStride * threads)
        winogradPadStride = (padCount + 15) / 16 * 16
        winogradPad = Buffer(count: winogradPadStride * threads)
        gTmp = Buffer(count: tmpCount)
        mbstd = Buffer(count: cf * n * 16)
        conv = Buffer(count: c * n * 16)
        convFlat = Buffer(count: n * c * 16)
        fc = Buffer(count: n * c)
        logits = Buffer(count: n)
        gMbstd = Buffer(count: cf * n * 16)
        gConv = Buffer(count: c * n * 16)
        gConvFlat = Buffer(count: n * c * 16)
        gFc = Buffer(count: n * c)
        gLogits = Buffer(count: n)
    }

    static func layout(of d: Discriminator) -> [Int] {
        var out: [Int] = []
        for b in d.blocks {
            out.append(b.resolution)
            for l in [b.fromrgb, b.conv0, b.conv1, b.skip] { out += l?.weight.shape ?? [0] }
        }
        out += d.epilogue.conv.weight.shape + d.epilogue.fc.weight.shape + d.epilogue.out.weight.shape
        return out
    }

    /// How a conv over `rows` output rows of `width` columns, lowering `k` values per column, is cut:
    /// pieces of whole rows whose columns fit `budget` floats (at least one row), and the floats the
    /// largest piece lowers.
    static func rowPlan(rows: Int, k: Int, width: Int, budget: Int) -> (pieces: Int, floats: Int) {
        let pieces = Parallel.pieceCount(units: rows, maxUnitsPerPiece: budget / max(1, k * width), quantum: pieceQuantum)
        return (pieces, Parallel.largestPiece(units: rows, pieces: pieces) * k * width)
    }

    /// Whether a stride-1 3x3 conv on an R x R grid runs by Winograd (R a multiple of the tile, at
    /// least `from`: smaller grids have too few tiles to pay for the transforms).
    static func usesWinograd(resolution r: Int, from: Int) -> Bool { r >= from && r % winogradTileSize == 0 }

    /// How a Winograd conv over the batch's N R / 4 tile rows is cut: pieces whose transformed
    /// operand (36 positions x C channels x R / 4 tiles a row) fits twice `budget`, and the floats of
    /// each worker's V (or M) for the largest piece.
    static func winogradPlan(batch n: Int, resolution r: Int, channels c: Int, budget: Int) -> (pieces: Int, floats: Int) {
        let tileRows = n * r / winogradTileSize
        let perRow = winogradPositions * c * (r / winogradTileSize)
        let pieces = Parallel.pieceCount(units: tileRows, maxUnitsPerPiece: 2 * budget / max(1, perRow), quantum: pieceQuantum)
        let largest = Parallel.largestPiece(units: tileRows, pieces: pieces)
        return (pieces, winogradScratch(rows: c, tiles: largest * (r / winogradTileSize)))
    }

    /// Workers for a phase of `flops` (2 x multiply-adds).
    func parts(flops: Double) -> Int {
        let grain = minimumFLOPsPerWorker
        return grain <= 0 ? threads : max(1, min(threads, Int(min(flops / grain, Double(Int.max / 2)))))
    }

    /// The latest forward's `output`, [N, C, H, W] (or [N, C], [N, 1]): a copy.
    public func activation(_ output: DiscriminatorOutput) -> Tensor {
        guard let through = forwardThrough, output <= through else {
            preconditionFailure("\(output) was not computed: the last forward stopped after \(forwardThrough.map(\.name) ?? "nothing")")
        }
        let n = batch
        switch output {
        case .block(let r):
            guard let i = blockResolutions.firstIndex(of: r) else { preconditionFailure("no block b\(r)") }
            return ChannelLayout.toNCHW(blocks[i].out.pointer, channels: blockOutChannels[i], batch: n, resolution: r / 2)
        case .mbstd:
            return ChannelLayout.toNCHW(mbstd.pointer, channels: mbstd.count / (n * 16), batch: n, resolution: 4)
        case .conv:
            let c = conv.count / (n * 16)
            return Tensor(shape: [n, c, 4, 4]) { $0.baseAddress!.update(from: convFlat.pointer, count: n * c * 16) }
        case .fc:
            let c = fc.count / n
            return Tensor(shape: [n, c]) { $0.baseAddress!.update(from: fc.pointer, count: n * c) }
        case .logits:
            return Tensor(shape: [n, 1]) { $0.baseAddress!.update(from: logits.pointer, count: n) }
        }
    }

    /// The latest forward's logits [N, 1].
    public var logitsTensor: Tensor { activation(.logits) }

}
