import Engine
import Testing
import TestSupport

/// The engine's float32 forward against `ReferenceStyleGAN2`, a float64 transcription of NVIDIA's
/// code that shares none of the engine's tricks (activation scaling, CNHW + im2col GEMMs, separable
/// taps). Tiny random generators make every case fast, so configurations can be many.
@Suite("Engine forward against the float64 reference")
struct ReferenceForwardTests {
    enum Noise: String, CaseIterable, Sendable { case none, const, explicit }

    struct Case: Sendable, CustomStringConvertible {
        var spec: TinyGeneratorSpec
        var clamp: Float?
        var noise: Noise
        var batch: Int
        /// SynthesisWorkspace's chunkBudget: 1 forces one sample per GEMM chunk (the n0/count path).
        var chunkBudget: Int
        var seed: UInt64

        var description: String {
            "\(spec) clamp \(clamp.map { "\($0)" } ?? "none") noise \(noise) N\(batch) chunk \(chunkBudget == 1 ? "1, Winograd from b4" : "all") seed \(seed)"
        }
    }

    static let specs: [(TinyGeneratorSpec, Float?)] = [
        (TinyGeneratorSpec(), nil),
        // Small enough that many activations and ToRGB outputs hit the clamp (checked below).
        (TinyGeneratorSpec(), 0.5),
        // img_channels 1, three blocks (b4, b8, b16).
        (TinyGeneratorSpec(zDim: 5, wDim: 3, mappingLayers: 3, channels: [4, 3, 2], imgChannels: 1), nil),
        // Asymmetric resample filters, different for the conv0 layers and the skip image: a filter
        // applied unflipped, transposed, or taken from the wrong buffer changes the image.
        (TinyGeneratorSpec(channels: [2, 3, 2], filterTaps: [1, 2, 5, 1], imageFilterTaps: [3, 1, 2, 6]), nil),
        // More channels than b4's 16 pixels: the plain conv splits its output channels, not its rows.
        (TinyGeneratorSpec(channels: [20, 3]), nil),
    ]

    static let cases: [Case] = {
        var out: [Case] = []
        for (si, (spec, clamp)) in specs.enumerated() {
            for noise in Noise.allCases {
                for (batch, chunk) in [(1, 1 << 22), (3, 1 << 22), (3, 1)] {
                    out.append(Case(spec: spec, clamp: clamp, noise: noise, batch: batch, chunkBudget: chunk, seed: 100 + UInt64(si)))
                }
            }
        }
        return out
    }()

    /// Engine float32 against float64: the direct layers' K <= 180 (ch[20, 3]) sums and the FIRs err by
    /// ~1e-6 of the image's largest value; the chunk-1 cases run every 3x3 layer through Winograd, whose
    /// transforms scale that ~4-5x (measured 4.8e-6, the same with either OpenBLAS kernel: the error is in
    /// our fixed-order transforms, not the K <= 20 channel GEMMs). 2e-5 leaves 4x (1e-5 left 2x); a wrong
    /// filter, flip, gain or clamp is off by >= 1e-2.
    static let tolerance = 2e-5

    /// max |engine - reference| <= tolerance * max |reference|, with the worst element printed.
    func check(_ label: String, engine: Tensor, reference: [Double]) {
        let c = TensorComparison(label, ours: engine, reference: Tensor(shape: engine.shape, values: reference.map(Float.init)))
        // Measure in float64 too: the Float conversion of the reference is exact to 6e-8 relative.
        var maxDiff = 0.0
        var maxRef = 0.0
        for (i, e) in engine.scalars.enumerated() {
            maxDiff = max(maxDiff, abs(Double(e) - reference[i]))
            maxRef = max(maxRef, abs(reference[i]))
        }
        print("reference-forward \(c)")
        #expect(maxRef > 0, "\(label): the reference image is all zero")
        #expect(maxDiff <= Self.tolerance * maxRef, "\(c)")
    }

    @Test(arguments: cases)
    func synthesisMatchesReference(_ c: Case) throws {
        try BLAS.load()
        let (g, reference) = try c.spec.build(seed: c.seed, convClamp: c.clamp)
        #expect(reference.numWs == g.synthesis.numWs)
        #expect(reference.convLayerNames.map { $0 + ".noise_const" } == g.synthesis.noiseLayerNames)
        var rng = TestRandom(seed: c.seed &* 31 &+ UInt64(c.batch))
        let ws = rng.tensor([c.batch, g.synthesis.numWs, g.synthesis.wDim])  // [N, num_ws, w_dim]
        let noise: (NoiseMode, ReferenceNoise)
        switch c.noise {
        case .none: noise = (.none, .none)
        case .const: noise = (.const, .const)
        case .explicit:
            noise = TinyInputs.explicitNoise(resolutions: g.synthesis.noiseResolutions, batch: c.batch, firstShared: true, rng: &rng)
        }
        // Every phase split, however small, so that the parallel paths are the ones checked.
        // chunk 1 also takes every plain layer (b4 up) through Winograd, one tile row per chunk.
        let workspace = SynthesisWorkspace(
            network: g.synthesis, batch: c.batch, chunkBudget: c.chunkBudget, workerColumnBudget: c.chunkBudget == 1 ? 1 : 1 << 18,
            minimumFLOPsPerWorker: 0, winogradFrom: c.chunkBudget == 1 ? 4 : 16)
        let img = g.synthesis.forward(ws, noise: noise.0, workspace: workspace)  // [N, C, R, R]
        var trace = ReferenceTrace()
        let expected = reference.synthesis(ws: ws.doubles, batch: c.batch, noise: noise.1, trace: &trace)
        #expect(img.shape == [c.batch, c.spec.imgChannels, c.spec.resolution, c.spec.resolution])
        if c.clamp != nil {
            // The clamp case must actually clamp, in the conv layers and in the ToRGB layers (without
            // noise this seed's b8.conv1 stays inside the clamp; every layer clamps with noise).
            print("reference-forward clamped per conv layer \(trace.clampedPerConvLayer), torgb \(trace.clampedToRGB)")
            #expect(trace.clampedPerConvLayer.reduce(0, +) > 0)
            #expect(trace.clampedToRGB > 0)
            if c.noise != .none { #expect(trace.clampedPerConvLayer.allSatisfy { $0 > 0 }) }
        }
        check("\(c)", engine: img, reference: expected)
    }

    /// z -> ws through the mapping network, and z -> image through the whole generator.
    @Test(arguments: [1, 3])
    func mappingAndGeneratorMatchReference(batch: Int) throws {
        try BLAS.load()
        for (si, (spec, clamp)) in Self.specs.enumerated() {
            let (g, reference) = try spec.build(seed: 200 + UInt64(si), convClamp: clamp)
            var rng = TestRandom(seed: 300 + UInt64(si))
            let z = rng.tensor([batch, spec.zDim])  // [N, z_dim]
            var trace = ReferenceTrace()
            check("mapping \(spec) N\(batch)", engine: g.mapping(z), reference: reference.mapping(z: z.doubles, batch: batch, trace: &trace))
            check(
                "generator \(spec) clamp \(clamp.map { "\($0)" } ?? "none") N\(batch)", engine: g(z: z, noise: .const),
                reference: reference.generate(z: z.doubles, batch: batch, noise: .const, trace: &trace))
        }
    }
}
