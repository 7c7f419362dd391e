/// Every buffer one forward + backward of a `SynthesisNetwork` needs at one batch size, allocated
/// once and reused every step (an optimiser's loop never allocates activations).
///
/// Activations are channel-major, [C, N, H, W], so that a batch shares each layer's GEMM.
/// A workspace belongs to one thread at a time.
public final class SynthesisWorkspace: @unchecked Sendable {
    public let batch: Int  // N

    final class ConvState {
        let s: Buffer  // [N, I] styles
        let d: Buffer  // [N, O] demodulation coefficients
        let xs: Buffer  // [I, N, Hin, Win] input scaled by the styles (up layers only)
        let y0: Buffer  // [O, N, R, R] convolution output before demodulation
        let out: Buffer  // [O, N, R, R] layer output
        let gOut: Buffer  // [O, N, R, R] gradient of the output
        let gs: Buffer  // [N, I] gradient of the styles
        let gS: Buffer  // [N, O] gradient of the demodulation's sum of squares
        let noise: Buffer  // [N, R, R] noise map (row 0 only when shared)
        var noisePerSample = false
        var hasNoise = false
        /// Whether the caller gave the noise maps (their gradients keep the given [1 or N, R, R] shape).
        var noiseShapeExplicit = false
        let chunk: Int  // samples per GEMM chunk (up layers, and the backward)
        // Every split below cuts its work into pieces fixed by the layer's shape, the batch and the
        // budgets, never by the worker count (see `Parallel.forEachPiece`): so are the GEMMs' shapes.
        /// The image rows [N * Hin] of the forward of plain layers, in `rowPieces` GEMM pieces of at
        /// most `rowsPerChunk` rows (lowered columns of one piece fit a worker's budget).
        let rowPieces: Int
        let rowsPerChunk: Int
        /// The same for the input gradient of plain layers (lowers O channels).
        let backwardRowPieces: Int
        let backwardRowsPerChunk: Int
        /// Whether this plain layer convolves by Winograd F(4x4, 3x3), and its tile rows [N * R / 4]
        /// in `winogradPieces` pieces of at most `winogradRowsPerChunk` rows.
        let winograd: Bool
        let winogradPieces: Int
        let winogradRowsPerChunk: Int
        /// Floats of one worker's transformed operand (V or M) for a piece.
        let winogradChunkFloats: Int
        /// Pieces a split of this layer's phases is cut into at most (`SynthesisWorkspace.phasePieces`).
        let phasePieces: Int
        /// Pieces of the output channels (the up layers' GEMMs, the small grids', the weight gradients,
        /// and the groups whose noise-gradient sums are added in order) and of the input channels.
        let outChannelPieces: Int
        let inChannelPieces: Int
        /// Whether this up layer's forward GEMM is cut by columns (the activations, at least twice the
        /// weight's 9 O rows) rather than by output channels.
        let upColumnSplit: Bool

        init(_ l: SynthesisLayer, batch n: Int, chunkBudget: Int, workerColumnBudget: Int, winogradFrom: Int) {
            let hwIn = l.inputResolution * l.inputResolution
            phasePieces = SynthesisWorkspace.phasePieces(flops: 2 * Double(n * hwIn * l.inChannels * l.outChannels * 9))
            let q = phasePieces
            let qw = min(q, SynthesisWorkspace.weightPieceQuantum)
            let hw = l.resolution * l.resolution
            s = Buffer(count: n * l.inChannels)
            d = Buffer(count: n * l.outChannels)
            xs = Buffer(count: l.up ? l.inChannels * n * hwIn : 0)  // plain layers scale while lowering
            y0 = Buffer(count: l.outChannels * n * hw)
            out = Buffer(count: l.outChannels * n * hw)
            gOut = Buffer(count: l.outChannels * n * hw)
            noise = Buffer(count: n * hw)
            gs = Buffer(count: n * l.inChannels)
            gS = Buffer(count: n * l.outChannels)
            let rows = 9 * (l.up ? l.outChannels : max(l.inChannels, l.outChannels))
            chunk = max(1, min(n, chunkBudget / max(1, rows * hwIn)))
            let imageRows = n * l.inputResolution
            let perPiece = min(chunkBudget, workerColumnBudget)
            rowPieces = Parallel.pieceCount(
                units: imageRows, maxUnitsPerPiece: perPiece / max(1, 9 * l.inChannels * l.inputResolution), quantum: qw)
            rowsPerChunk = Parallel.largestPiece(units: imageRows, pieces: rowPieces)
            backwardRowPieces = Parallel.pieceCount(
                units: imageRows, maxUnitsPerPiece: perPiece / max(1, 9 * l.outChannels * l.inputResolution), quantum: qw)
            backwardRowsPerChunk = Parallel.largestPiece(units: imageRows, pieces: backwardRowPieces)
            winograd = !l.up && l.resolution >= winogradFrom && l.resolution % winogradTileSize == 0
            let tilesPerRow = l.resolution / winogradTileSize
            let tileRows = n * l.resolution / winogradTileSize
            let tileRowFloats = winogradPositions * max(l.inChannels, l.outChannels) * tilesPerRow
            winogradPieces = Parallel.pieceCount(units: tileRows, maxUnitsPerPiece: workerColumnBudget * 2 / max(1, tileRowFloats), quantum: qw)
            winogradRowsPerChunk = Parallel.largestPiece(units: tileRows, pieces: winogradPieces)
            winogradChunkFloats = winograd ? winogradScratch(rows: max(l.inChannels, l.outChannels), tiles: winogradRowsPerChunk * tilesPerRow) : 0
            upColumnSplit = l.up && chunk * hwIn >= 2 * 9 * l.outChannels
            outChannelPieces = Parallel.pieceCount(units: l.outChannels, quantum: q)
            inChannelPieces = Parallel.pieceCount(units: l.inChannels, quantum: q)
        }
    }

    final class RGBState {
        let s: Buffer  // [N, I]
        let xs: Buffer  // [I, N, R, R] input scaled by the styles (the backward's, for weight gradients)
        let modulatedWeight: Buffer  // [N, C, I] weight * styles: the forward's per-sample GEMM operand
        let y: Buffer  // [C, N, R, R] torgb output (after clamp)
        let img: Buffer  // [C, N, R, R] the running skip image after this block
        let gImg: Buffer  // [C, N, R, R]
        let gs: Buffer  // [N, I]
        /// Pieces of the columns [N * R * R] (the forward) and of the input channels (the backward).
        let columnPieces: Int
        let inChannelPieces: Int

        init(_ l: ToRGBLayer, batch n: Int) {
            let q = SynthesisWorkspace.pieceQuantum
            let hw = l.resolution * l.resolution
            s = Buffer(count: n * l.inChannels)
            xs = Buffer(count: l.inChannels * n * hw)
            modulatedWeight = Buffer(count: n * l.imgChannels * l.inChannels)
            y = Buffer(count: l.imgChannels * n * hw)
            img = Buffer(count: l.imgChannels * n * hw)
            gImg = Buffer(count: l.imgChannels * n * hw)
            gs = Buffer(count: n * l.inChannels)
            columnPieces = SynthesisWorkspace.columnPieces(n * hw, quantum: q)
            inChannelPieces = Parallel.pieceCount(units: l.inChannels, quantum: q)
        }
    }

    /// A GEMM cut by columns (ToRGB's, large up layers') has pieces of a multiple of this many
    /// columns (64-byte aligned) ...
    static let columnGranule = 16
    /// ... and this many pieces for `columns` columns, `quantum` at most.
    static func columnPieces(_ columns: Int, quantum: Int) -> Int {
        Parallel.pieceCount(units: (columns + columnGranule - 1) / columnGranule, quantum: quantum)
    }

    let conv0: [ConvState?]  // per block
    let conv1: [ConvState]
    let rgb: [RGBState]
    let constInput: Buffer  // [C, N, 4, 4]
    let gConstInput: Buffer  // [C, N, 4, 4]
    let cols: Buffer  // im2col / transposed-conv columns for one chunk
    let gcols: Buffer
    let gxs: Buffer  // gradient w.r.t. a layer's scaled input
    /// Floats between workers' slices of `cols` in the forward of plain conv layers.
    let colsPartStride: Int
    /// Per-worker Winograd operands: V [36, I, T] and M [36, O, T] for a chunk of tiles, and padded rows.
    let winogradV: Buffer
    let winogradM: Buffer
    let winogradStride: Int
    let winogradPad: Buffer
    let winogradPadStride: Int
    let firScratch: Buffer  // one plane-sized slice per worker
    let firScratchStride: Int
    /// Partial sums of noise gradients per piece of output channels, [pieceQuantum, N * R * R] at the
    /// largest R, added in piece order.
    let noisePartials: Buffer
    let noisePartialStride: Int
    /// Workers this workspace splits its phases over and has scratch for (by default Parallel.threads
    /// when it was made). It decides who computes what, never what is computed: every phase cuts its
    /// work into pieces that do not depend on it, so any worker count gives the same bits.
    public let threads: Int
    /// A phase cuts its work into a multiple of this many pieces (when it has that many units and
    /// enough FLOPs, see `phasePieces`), so that 1, 2 and this many workers get equal shares: more
    /// pieces than workers cost a little (each GEMM piece packs the operand the pieces share again),
    /// fewer leave workers idle. This for splits whose shared operand is the small one (channels,
    /// columns) ...
    static let pieceQuantum = 4
    /// ... and this for those in which every piece streams the layer's whole weight (the Winograd tile
    /// rows and plain layers' image rows, of which a budget already makes many pieces on large grids):
    /// two pieces of a small grid cost two workers what one piece each did; four read the weight
    /// twice per worker (paper256 measured a few percent slower a step at 2 threads).
    static let weightPieceQuantum = 2

    /// The most pieces a conv layer's phases are cut into for `flops` (2 x multiply-adds of the
    /// layer): one below 4 MFLOP (as two workers' `minimumFLOPsPerWorker` by default: splitting costs
    /// more than it saves), two below 64 MFLOP (where every extra GEMM piece's packing shows at
    /// batch 1), else `pieceQuantum`. Never the worker count.
    static func phasePieces(flops: Double) -> Int {
        flops < 4e6 ? 1 : flops < 64e6 ? 2 : pieceQuantum
    }
    /// A phase gets one worker per this many FLOPs (at most `threads`): forking costs tens of
    /// microseconds, more than the smallest layers' whole work. 0 splits every phase (tests).
    public let minimumFLOPsPerWorker: Double
    let gWs: Buffer  // [N, num_ws, w_dim]
    /// Parameter gradients by official name, allocated on the first backward that asks for them.
    var parameterGradients: [String: Buffer] = [:]
    /// The scratch of a Winograd layer's weight gradient (`winogradWeightGradient`: the transformed
    /// gradient [36, O, I] and a chunk's transformed operands): the largest asked for so far, made on
    /// the first backward that wants parameter gradients.
    private var winogradWeightGradientBuffer: Buffer?

    /// `winogradWeightGradientBuffer`, holding at least `count` floats.
    func winogradWeightGradientScratch(count: Int) -> Buffer {
        if let b = winogradWeightGradientBuffer, b.count >= count { return b }
        let b = Buffer(count: count)
        winogradWeightGradientBuffer = b
        return b
    }
    /// Noise-map gradients per noise layer, [N or 1, R, R] as the forward's noise was given.
    var noiseGradients: [Buffer] = []
    /// Below 16 px a layer has too few tiles to pay for the transforms (measured on default64).
    public static let defaultWinogradFrom = 16
    /// Whether a forward has filled the buffers for `backward`.
    var forwardDone = false

    /// Buffers for `network` at batch `batch`. `chunkBudget` caps the column scratch (floats).
    /// `workerColumnBudget` caps one worker's slice of lowered columns in the row-split plain convs
    /// (floats; the default, 1 MiB, keeps a slice in cache between lowering and OpenBLAS packing it),
    /// and half of one worker's Winograd operand. Plain layers at `winogradFrom` px and up convolve by
    /// Winograd F(4x4, 3x3) (Int.max: never; smaller grids have too few tiles to pay for the transforms).
    public init(
        network: SynthesisNetwork, batch: Int, chunkBudget: Int = 1 << 22, workerColumnBudget: Int = 1 << 18,
        minimumFLOPsPerWorker: Double = 2e6, winogradFrom: Int = SynthesisWorkspace.defaultWinogradFrom,
        threads: Int = Parallel.threads
    ) {
        precondition(batch >= 1 && threads >= 1)
        self.batch = batch
        self.minimumFLOPsPerWorker = minimumFLOPsPerWorker
        var c0: [ConvState?] = []
        var c1: [ConvState] = []
        var r: [RGBState] = []
        var colsCount = 1
        var partStride = 1
        var gxsCount = 1
        var firCount = 1
        var winogradCount = 1
        var padCount = 1
        for b in network.blocks {
            if let l = b.conv0 {
                let st = ConvState(l, batch: batch, chunkBudget: chunkBudget, workerColumnBudget: workerColumnBudget, winogradFrom: winogradFrom)
                let hwIn = l.inputResolution * l.inputResolution
                colsCount = max(colsCount, 9 * l.outChannels * st.chunk * hwIn, 9 * l.inChannels * st.chunk * hwIn)
                gxsCount = max(gxsCount, l.inChannels * batch * hwIn)
                firCount = max(firCount, transposedConv3x3UpFIRScratch(height: l.inputResolution, width: l.inputResolution))
                c0.append(st)
            } else {
                c0.append(nil)
            }
            let st1 = ConvState(b.conv1, batch: batch, chunkBudget: chunkBudget, workerColumnBudget: workerColumnBudget, winogradFrom: winogradFrom)
            let hw = b.resolution * b.resolution
            colsCount = max(colsCount, 9 * max(b.conv1.inChannels, b.conv1.outChannels) * st1.chunk * hw)
            partStride = max(
                partStride, 9 * b.conv1.inChannels * st1.rowsPerChunk * b.resolution,
                9 * b.conv1.outChannels * st1.backwardRowsPerChunk * b.resolution)
            gxsCount = max(gxsCount, b.conv1.inChannels * batch * hw, b.torgb.inChannels * batch * hw)
            firCount = max(firCount, b.resolution * b.resolution * 2)
            winogradCount = max(winogradCount, st1.winogradChunkFloats)
            if st1.winograd { padCount = max(padCount, WinogradTiles.padScratch(width: b.resolution)) }
            c1.append(st1)
            r.append(RGBState(b.torgb, batch: batch))
        }
        conv0 = c0
        conv1 = c1
        rgb = r
        let c = network.blocks[0].conv1.inChannels
        constInput = Buffer(count: c * batch * 16)
        gConstInput = Buffer(count: c * batch * 16)
        colsPartStride = (partStride + 15) / 16 * 16  // every worker's slice 64-byte aligned, as the first
        cols = Buffer(count: max(colsCount, threads * colsPartStride))
        gcols = Buffer(count: colsCount)
        gxs = Buffer(count: gxsCount)
        self.threads = threads
        winogradStride = winogradCount
        winogradV = Buffer(count: winogradCount * threads)
        winogradM = Buffer(count: winogradCount * threads)
        winogradPadStride = padCount
        winogradPad = Buffer(count: padCount * threads)
        firScratchStride = firCount
        firScratch = Buffer(count: firCount * threads)
        let maxHW = network.imgResolution * network.imgResolution
        noisePartialStride = batch * maxHW
        noisePartials = Buffer(count: noisePartialStride * Self.pieceQuantum)
        gWs = Buffer(count: batch * network.numWs * network.wDim)
    }
}

/// One conv layer's output element: layer (execution order), channel, sample, flat pixel, and its
/// value (lrelu(pre-activation) * sqrt(2)) in the forward that found it.
public struct ActivationSite: Sendable, Hashable, CustomStringConvertible {
    public var layer: Int
    public var channel: Int
    public var sample: Int
    public var pixel: Int
    public var value: Float

    public init(layer: Int, channel: Int, sample: Int, pixel: Int, value: Float = 0) {
        self.layer = layer
        self.channel = channel
        self.sample = sample
        self.pixel = pixel
        self.value = value
    }

    public var description: String { "layer \(layer) channel \(channel) sample \(sample) pixel \(pixel)" }
}
