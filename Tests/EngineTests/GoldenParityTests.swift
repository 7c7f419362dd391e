import Engine
import Testing
import TestSupport

/// The engine against tensors dumped from NVIDIA's official StyleGAN2 code (Tests/Fixtures/stylegan2).
@Suite("Golden parity with the official StyleGAN2")
struct GoldenParityTests {
    static let fixtures = ["tiny32", "small64"]
    /// Two float32 implementations with different summation orders (PyTorch's conv vs our im2col /
    /// Winograd GEMMs): each 3x3 layer sums K = 9 * 128 = 1,152 products in small64, ~sqrt(K) * 2^-24 =
    /// 2e-6 of its terms typical (K * 2^-24 = 7e-5 worst case), over 9 convs + 5 ToRGBs, Winograd's
    /// transforms scaling it ~4x: measured <= 6e-6 of the largest value with either OpenBLAS kernel.
    /// 1e-4 leaves 16x; a wrong filter, gain or demodulation is off by >= 1e-2.
    static let outputTolerance: Float = 1e-4
    /// Gradients go forward and back through twice the layers (tensors measured <= 2e-5). The loosest
    /// is a scalar, tiny32's b4.conv1.noise_strength: a sum of 2,048 terms (N 2 x C 64 x 4x4) that cancel
    /// to 0.98, so the terms' elementwise error is not divided down by the sum: measured 1.1e-5 with
    /// OPENBLAS_CORETYPE=Haswell and 1.6e-4 with this machine's default kernels, 1.2x under the old 2e-4.
    /// 5e-4 leaves 3x over that spread (still 2x tighter than the 1e-3 asked).
    static let gradientTolerance: Float = 5e-4

    func check(_ name: String, _ ours: Tensor, _ reference: Tensor, tolerance: Float) {
        let c = TensorComparison(name, ours: ours, reference: reference)
        print("parity \(c)")
        #expect(c.relativeError <= tolerance, "\(c)")
    }

    @Test(arguments: fixtures)
    func mappingAndTruncation(fixture: String) throws {
        let g = try Fixtures.generator(fixture)
        let golden = try Fixtures.goldenCase(fixture)
        let z = try golden.tensor("z")
        check("\(fixture)/ws", g.mapping(z), try golden.tensor("ws"), tolerance: Self.outputTolerance)
        check("\(fixture)/ws_trunc07", g.mapping(z, truncationPsi: 0.7), try golden.tensor("ws_trunc07"), tolerance: Self.outputTolerance)
        check(
            "\(fixture)/ws_trunc05_cut2", g.mapping(z, truncationPsi: 0.5, truncationCutoff: 2),
            try golden.tensor("ws_trunc05_cut2"), tolerance: Self.outputTolerance)
    }

    @Test(arguments: fixtures)
    func synthesisImagesAndBlocks(fixture: String) throws {
        let g = try Fixtures.generator(fixture)
        let golden = try Fixtures.goldenCase(fixture)
        let ws = try golden.tensor("ws")
        let workspace = SynthesisWorkspace(network: g.synthesis, batch: ws.shape[0])
        check("\(fixture)/img_none", g.synthesis.forward(ws, noise: .none, workspace: workspace), try golden.tensor("img_none"), tolerance: Self.outputTolerance)
        check("\(fixture)/img_const", g.synthesis.forward(ws, noise: .const, workspace: workspace), try golden.tensor("img_const"), tolerance: Self.outputTolerance)
        for res in g.config.blockResolutions {
            let (x, img) = g.synthesis.blockOutputs(resolution: res, workspace: workspace)
            check("\(fixture)/block/b\(res)/x", x, try golden.tensor("block/b\(res)/x"), tolerance: Self.outputTolerance)
            check("\(fixture)/block/b\(res)/img", img, try golden.tensor("block/b\(res)/img"), tolerance: Self.outputTolerance)
        }
        let wplus = try golden.tensor("wplus")
        check("\(fixture)/img_wplus_const", g.synthesis.forward(wplus, noise: .const, workspace: workspace), try golden.tensor("img_wplus_const"), tolerance: Self.outputTolerance)
        check("\(fixture)/img_from_z", g(z: try golden.tensor("z")), try golden.tensor("img_from_z"), tolerance: Self.outputTolerance)
    }

    /// An activation this close to zero may sit on the other side of the lrelu in the reference's
    /// float32 summation order (our forward differs from it by ~1e-6), and then its gradient differs
    /// by 5x. Parity means: with some choice of slopes at those few sites, every gradient matches.
    static let tieThreshold: Float = 4e-6

    /// `g` with the bias of each site's channel moved so that the site's pre-activation changes sign
    /// and nothing else changes meaningfully: the site then lands on the side of the lrelu's kink where
    /// the reference's float32 sum put it, and our own backward takes that side's slope. Every other
    /// activation of the channel moves by the same amount (under 3e-5), far inside the tolerances. The
    /// tie is handled here, in the test's comparison; the engine's backward knows nothing of it.
    static func flipping(_ g: Generator, at sites: [ActivationSite]) -> Generator {
        var g = g
        for site in sites {
            // The stored value is lrelu(pre) * sqrt(2) (no clamp this close to zero).
            let gain = Float(2).squareRoot()
            let pre = site.value > 0 ? site.value / gain : site.value / (0.2 * gain)
            // Across zero by as much as it sat on its side, and by at least 1e-6 and several ulps of
            // the bias: a nudge below the bias's ulp would round away and flip nothing.
            func nudged(_ bias: Float) -> Float {
                let size = max(2 * abs(pre), 8 * bias.ulp, 1e-6)
                return bias + (pre > 0 ? -size : size)
            }
            var index = 0
            for b in g.synthesis.blocks.indices {
                if g.synthesis.blocks[b].conv0 != nil {
                    if index == site.layer { g.synthesis.blocks[b].conv0!.bias[flat: site.channel] = nudged(g.synthesis.blocks[b].conv0!.bias[flat: site.channel]) }
                    index += 1
                }
                if index == site.layer { g.synthesis.blocks[b].conv1.bias[flat: site.channel] = nudged(g.synthesis.blocks[b].conv1.bias[flat: site.channel]) }
                index += 1
            }
        }
        return g
    }

    /// Gradients with the slope flipped at a greedily grown set of ambiguous sites (by `flipping`):
    /// each round adds the site that brings the gradients closest to the reference, until none helps.
    /// Returns the gradients of the best set.
    func bestTieChoice(
        _ g: Generator, _ ws: Tensor, upstream: Tensor, workspace: SynthesisWorkspace,
        fits: (SynthesisGradients) -> Float
    ) -> (SynthesisGradients, [ActivationSite]) {
        _ = g.synthesis.forward(ws, noise: .const, workspace: workspace)
        let sites = g.synthesis.activationsNearZero(threshold: Self.tieThreshold, workspace: workspace)
        func evaluate(_ flips: [ActivationSite]) -> (SynthesisGradients, Float) {
            let flipped = Self.flipping(g, at: flips)
            _ = flipped.synthesis.forward(ws, noise: .const, workspace: workspace)
            let grads = flipped.synthesis.backward(upstream, workspace: workspace, ws: ws, parameterGradients: true)
            return (grads, fits(grads))
        }
        var chosen: [ActivationSite] = []
        var best = evaluate(chosen)
        while chosen.count < 8 {
            var round: (ActivationSite, SynthesisGradients, Float)?
            for site in sites where !chosen.contains(site) {
                let (grads, error) = evaluate(chosen + [site])
                if error < (round?.2 ?? best.1) { round = (site, grads, error) }
            }
            guard let (site, grads, error) = round else { break }
            chosen.append(site)
            best = (grads, error)
        }
        print("parity: \(sites.count) activation(s) within \(Self.tieThreshold) of zero; best fit flips \(chosen)")
        return (best.0, chosen)
    }

    @Test(arguments: fixtures)
    func synthesisGradients(fixture: String) throws {
        let g = try Fixtures.generator(fixture)
        let golden = try Fixtures.goldenCase(fixture)
        let wplus = try golden.tensor("wplus")
        let workspace = SynthesisWorkspace(network: g.synthesis, batch: wplus.shape[0])
        _ = g.synthesis.forward(wplus, noise: .const, workspace: workspace)
        var references: [String: Tensor] = [:]
        for key in golden.names where key.hasPrefix("grad_") { references[key] = try golden.tensor(key) }
        func pairs(_ grads: SynthesisGradients) -> [(String, Tensor, Tensor)] {
            var out = [("grad_wplus", grads.ws, references["grad_wplus"]!)]
            for (name, gn) in zip(g.synthesis.noiseLayerNames, grads.noise) {
                out.append(("grad_noise/\(name)", gn, references["grad_noise/\(name)"]!))
            }
            for (name, t) in grads.parameters.sorted(by: { $0.key < $1.key }) {
                if let r = references["grad_param/\(name)"] { out.append(("grad_param/\(name)", t, r)) }
            }
            return out
        }
        let (grads, _) = bestTieChoice(g, wplus, upstream: try golden.tensor("upstream"), workspace: workspace) { grads in
            pairs(grads).map { TensorComparison($0.0, ours: $0.1, reference: $0.2).relativeError }.max() ?? 0
        }
        #expect(grads.noise.count == g.synthesis.noiseLayerNames.count)
        let expected = golden.names.filter { $0.hasPrefix("grad_param/synthesis.") }
        #expect(Set(expected.map { String($0.dropFirst("grad_param/".count)) }) == Set(grads.parameters.keys))
        for (name, ours, reference) in pairs(grads) {
            check("\(fixture)/\(name)", ours, reference, tolerance: Self.gradientTolerance)
        }
    }

    @Test(arguments: fixtures)
    func generatorGradientsThroughMapping(fixture: String) throws {
        let g = try Fixtures.generator(fixture)
        let golden = try Fixtures.goldenCase(fixture)
        let z = try golden.tensor("z")
        let ws = g.mapping(z)
        let workspace = SynthesisWorkspace(network: g.synthesis, batch: z.shape[0])
        _ = g.synthesis.forward(ws, noise: .const, workspace: workspace)
        let gzReference = try golden.tensor("grad_z")
        let (sg, _) = bestTieChoice(g, ws, upstream: try golden.tensor("upstream"), workspace: workspace) { grads in
            TensorComparison("grad_z", ours: g.mapping.backward(z, upstream: grads.ws, parameterGradients: false).gz, reference: gzReference).relativeError
        }
        let (gz, params) = g.mapping.backward(z, upstream: sg.ws, parameterGradients: true)
        check("\(fixture)/grad_z", gz, gzReference, tolerance: Self.gradientTolerance)
        let expected = golden.names.filter { $0.hasPrefix("grad_param/mapping.") }
        #expect(!expected.isEmpty)
        for key in expected {
            let name = String(key.dropFirst("grad_param/".count))
            let ours = try #require(params[name], "no gradient for \(name)")
            check("\(fixture)/\(key)", ours, try golden.tensor(key), tolerance: Self.gradientTolerance)
        }
    }
}
