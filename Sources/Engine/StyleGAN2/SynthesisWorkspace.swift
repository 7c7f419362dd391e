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
        let rowsPerChunk: Int  // image rows per GEMM chunk of one worker (the forward of plain layers)
        let backwardRowsPerChunk: Int  // the same for the input gradient of plain layers (lowers O channels)
        /// Whether this plain layer convolves by Winograd F(4x4, 3x3), and its tile rows per chunk of one worker.
        let winograd: Bool
        let winogradRowsPerChunk: Int
        /// Floats of one worker's transformed operand (V or M) for a chunk.
        let winogradChunkFloats: Int

        init(_ l: SynthesisLayer, batch n: Int, chunkBudget: Int, workerColumnBudget: Int, threads: Int, winogradFrom: Int) {
            let hwIn = l.inputResolution * l.inputResolution
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
            let rowsPerPart = (imageRows + threads - 1) / threads
            let perWorker = min(chunkBudget / threads, workerColumnBudget)
            rowsPerChunk = max(1, min(rowsPerPart, perWorker / max(1, 9 * l.inChannels * l.inputResolution)))
            backwardRowsPerChunk = max(1, min(rowsPerPart, perWorker / max(1, 9 * l.outChannels * l.inputResolution)))
            winograd = !l.up && l.resolution >= winogradFrom && l.resolution % winogradTileSize == 0
            let tilesPerRow = l.resolution / winogradTileSize
            let tileRows = n * l.resolution / winogradTileSize
            let tilePartRows = (tileRows + threads - 1) / threads
            let tileRowFloats = winogradPositions * max(l.inChannels, l.outChannels) * tilesPerRow
            winogradRowsPerChunk = max(1, min(tilePartRows, workerColumnBudget * 2 / max(1, tileRowFloats)))
            winogradChunkFloats = winograd ? winogradScratch(rows: max(l.inChannels, l.outChannels), tiles: winogradRowsPerChunk * tilesPerRow) : 0
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

        init(_ l: ToRGBLayer, batch n: Int) {
            let hw = l.resolution * l.resolution
            s = Buffer(count: n * l.inChannels)
            xs = Buffer(count: l.inChannels * n * hw)
            modulatedWeight = Buffer(count: n * l.imgChannels * l.inChannels)
            y = Buffer(count: l.imgChannels * n * hw)
            img = Buffer(count: l.imgChannels * n * hw)
            gImg = Buffer(count: l.imgChannels * n * hw)
            gs = Buffer(count: n * l.inChannels)
        }
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
    /// Per-worker partial sums of noise gradients, [threads, N * R * R] at the largest R.
    let noisePartials: Buffer
    let noisePartialStride: Int
    /// Workers this workspace splits its phases over and has scratch for (by default Parallel.threads
    /// when it was made).
    public let threads: Int
    /// A phase gets one worker per this many FLOPs (at most `threads`): forking costs tens of
    /// microseconds, more than the smallest layers' whole work. 0 splits every phase (tests).
    public let minimumFLOPsPerWorker: Double
    let gWs: Buffer  // [N, num_ws, w_dim]
    /// Parameter gradients by official name, allocated on the first backward that asks for them.
    var parameterGradients: [String: Buffer] = [:]
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
                let st = ConvState(l, batch: batch, chunkBudget: chunkBudget, workerColumnBudget: workerColumnBudget, threads: threads, winogradFrom: winogradFrom)
                let hwIn = l.inputResolution * l.inputResolution
                colsCount = max(colsCount, 9 * l.outChannels * st.chunk * hwIn, 9 * l.inChannels * st.chunk * hwIn)
                gxsCount = max(gxsCount, l.inChannels * batch * hwIn)
                firCount = max(firCount, transposedConv3x3UpFIRScratch(height: l.inputResolution, width: l.inputResolution))
                c0.append(st)
            } else {
                c0.append(nil)
            }
            let st1 = ConvState(b.conv1, batch: batch, chunkBudget: chunkBudget, workerColumnBudget: workerColumnBudget, threads: threads, winogradFrom: winogradFrom)
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
        colsPartStride = partStride
        cols = Buffer(count: max(colsCount, threads * partStride))
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
        noisePartials = Buffer(count: noisePartialStride * threads)
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
