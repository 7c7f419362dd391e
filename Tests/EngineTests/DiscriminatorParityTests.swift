import Engine
import Foundation
import Testing
import TestSupport

/// The discriminator against tensors dumped from NVIDIA's official code (../shared/fixtures, section
/// "The discriminator" of its README) and against `ReferenceDiscriminator` (DiscriminatorGradientTests),
/// a plain float64 transcription of networks.py; and its loading from safetensors and NVIDIA pickles.
@Suite("Discriminator parity with the official StyleGAN2")
struct DiscriminatorParityTests {
    static let fixtures = ["tiny32", "small64"]
    static let sharedFixtures = Fixtures.shared != nil

    static func shared(_ fixture: String, _ file: String) -> String {
        (Fixtures.shared?.appendingPathComponent("fixtures/stylegan2/\(fixture)/\(file)").path) ?? ""
    }

    /// The fixture's conv_clamp, from its config.json (discriminator.safetensors records none).
    static func convClamp(_ fixture: String) throws -> Float? {
        let json = try Data(contentsOf: URL(fileURLWithPath: shared(fixture, "config.json")))
        let config = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        return (config["conv_clamp"] as? NSNumber)?.floatValue
    }

    static func fixtureDiscriminator(_ fixture: String) throws -> Discriminator {
        try Discriminator.load(path: shared(fixture, "discriminator.safetensors"), defaultConvClamp: convClamp(fixture))
    }

    /// Float32 against PyTorch's float32 with another summation order: small64's 3x3 layers sum
    /// K = 9 * 128 = 1,152 products (~sqrt(K) 2^-24 ~ 2e-6 relative typical) through 4 blocks and the
    /// epilogue, Winograd's transforms in the conv0s. Measured worst of each tensor's largest value:
    /// forward 1.1e-6 (tiny32 b32) and 1.3e-6 (small64 b64); grad_img 2.0e-6 and 2.3e-6 (once the
    /// kink ties are settled, below). 1e-5 leaves 4x; dropping the skip gain is off by 0.2-1.1, and
    /// dropping minibatch std's own gradient (the group coupling) by 3e-5 (tiny32) and 9e-5 (small64).
    static let tolerance: Float = 1e-5

    func check(_ name: String, _ ours: Tensor, _ reference: Tensor, tolerance: Float = Self.tolerance) {
        let c = TensorComparison(name, ours: ours, reference: reference)
        print("discriminator parity \(c)")
        #expect(c.relativeError <= tolerance, "\(c)")
    }

    // MARK: - The official fixtures

    /// Every block/<name> and the logits from img, and grad_img from all upstream/* at once.
    @Test(.enabled(if: sharedFixtures, "../shared is absent: the discriminator fixtures live there"), arguments: fixtures)
    func blocksLogitsAndInputGradient(fixture: String) throws {
        let d = try Self.fixtureDiscriminator(fixture)
        let golden = try SafeTensorsFile(path: Self.shared(fixture, "d_case.safetensors"))
        let img = try golden.tensor("img")
        let ws = DiscriminatorWorkspace(discriminator: d, batch: img.shape[0])
        d.forward(img, workspace: ws)
        var upstream: [DiscriminatorOutput: Tensor] = [:]
        for output in d.outputs {
            let key = output == .logits ? "logits" : "block/\(output.name)"
            let reference = try golden.tensor(key)
            if output == .logits {
                // The logits are sums of C terms that may cancel (small64's are all under 0.02):
                // judged against the size of the terms, not of the sum.
                let c = TensorComparison("\(fixture)/logits", ours: ws.activation(.logits), reference: reference)
                let scale = Self.logitTermScale(d, fc: ws.activation(.fc))
                print("discriminator parity \(c); against the terms' scale \(scale): \(c.maxAbsDiff / scale)")
                #expect(c.maxAbsDiff <= Self.tolerance * scale, "\(c)")
            } else {
                check("\(fixture)/\(key)", ws.activation(output), reference)
            }
            upstream[output] = try golden.tensor("upstream/\(output.name)")
        }
        #expect(Set(golden.names.filter { $0.hasPrefix("upstream/") }) == Set(d.outputs.map { "upstream/\($0.name)" }))
        let reference = try golden.tensor("grad_img")
        let (grad, flips) = Self.bestTieChoice(d, img: img, upstream: upstream, reference: reference)
        print("discriminator parity \(fixture): slopes flipped at \(flips.isEmpty ? "no site" : flips.map(\.description).joined(separator: ", "))")
        check("\(fixture)/grad_img", grad, reference)
    }

    /// max over samples of sum_j |out.weight[j] * weight_gain * fc[j]| + |out.bias|.
    static func logitTermScale(_ d: Discriminator, fc: Tensor) -> Float {
        let w = d.epilogue.out.weight.scalars, b = abs(d.epilogue.out.bias[flat: 0])
        let c = w.count
        let gain = 1 / Float(c).squareRoot()
        return (0..<fc.shape[0]).map { s in (0..<c).reduce(b) { $0 + abs(w[$1] * gain * fc[flat: s * c + $1]) } }.max() ?? 1
    }

    // MARK: - Ties at the lrelu kinks

    /// An activation this close to zero (|pre-activation|, our forward being within ~1e-6 of PyTorch's)
    /// may sit on the other side of the lrelu in PyTorch's summation order, and then its gradient
    /// differs by 5x there: small64's batch has 32 such sites, of ~4 million activations.
    static let tieThreshold: Float = 2e-6

    /// `d` with each site's channel bias moved so that the site's pre-activation changes sign (by as
    /// much as it sat on its side, at least 1e-6 and 8 ulps of the bias): the site lands on the other
    /// side of the kink, and every other activation of the channel moves by as much, far inside the
    /// tolerance. The tie is handled here, in the test; the engine's backward knows nothing of it.
    static func flipping(_ d: Discriminator, at sites: [DiscriminatorActivationSite]) -> Discriminator {
        var d = d
        func nudge(_ bias: inout Tensor, _ site: DiscriminatorActivationSite) {
            let pre = site.value > 0 ? site.value / site.gain : site.value / (0.2 * site.gain)
            let old = bias[flat: site.channel]
            let size = max(2 * abs(pre), 8 * old.ulp, 1e-6)
            bias[flat: site.channel] = old + (pre > 0 ? -size : size)
        }
        func nudge(_ l: inout Conv2dLayer, _ site: DiscriminatorActivationSite) {
            guard l.name == site.layer, var b = l.bias else { return }
            nudge(&b, site)
            l.bias = b
        }
        for site in sites {
            for i in d.blocks.indices {
                if d.blocks[i].fromrgb != nil { nudge(&d.blocks[i].fromrgb!, site) }
                nudge(&d.blocks[i].conv0, site)
                nudge(&d.blocks[i].conv1, site)
            }
            nudge(&d.epilogue.conv, site)
            if site.layer == "b4.fc" { nudge(&d.epilogue.fc.bias, site) }
        }
        return d
    }

    /// The input gradient with the slope flipped at a greedily grown set of near-zero sites: each
    /// round looks where the gradient is furthest off, tries the untried sites whose receptive field
    /// covers that place (same sample), and keeps the one that brings the gradient closest to the
    /// reference (in L2), until the gradient is within the tolerance or no flip helps.
    static func bestTieChoice(
        _ d: Discriminator, img: Tensor, upstream: [DiscriminatorOutput: Tensor], reference: Tensor
    ) -> (Tensor, [DiscriminatorActivationSite]) {
        let n = img.shape[0], r = img.shape[2]
        let ws = DiscriminatorWorkspace(discriminator: d, batch: n)
        func evaluate(_ flips: [DiscriminatorActivationSite]) -> Tensor {
            let flipped = flipping(d, at: flips)
            flipped.forward(img, workspace: ws)
            return flipped.backward(upstream, workspace: ws)
        }
        d.forward(img, workspace: ws)
        let sites = d.activationsNearZero(threshold: tieThreshold, workspace: ws).filter {
            abs($0.value > 0 ? $0.value / $0.gain : $0.value / (0.2 * $0.gain)) < tieThreshold
        }
        var chosen: [DiscriminatorActivationSite] = []
        var best = d.backward(upstream, workspace: ws)
        var bestL2 = TensorComparison("grad_img", ours: best, reference: reference).relativeL2Error
        let limit = tolerance * TensorComparison("grad_img", ours: best, reference: reference).maxAbsReference
        for _ in 0..<8 {
            // Where the gradient is furthest off: (sample, y, x).
            let worst = TensorComparison("grad_img", ours: best, reference: reference)
            if worst.maxAbsDiff <= limit { break }
            let (ws0, wy, wx) = (worst.worstIndex[0], worst.worstIndex[2], worst.worstIndex[3])
            let candidates = sites.filter { site in
                guard !chosen.contains(site), site.sample == ws0 else { return false }
                let size = layerResolution(site.layer, imgResolution: r)
                let scale = r / size
                let cy = (site.pixel / size) * scale + scale / 2, cx = (site.pixel % size) * scale + scale / 2
                let reach = 4 * scale + 4
                return abs(wy - cy) <= reach && abs(wx - cx) <= reach
            }
            var round: (DiscriminatorActivationSite, Tensor, Float)?
            for site in candidates {
                let g = evaluate(chosen + [site])
                let l2 = TensorComparison("grad_img", ours: g, reference: reference).relativeL2Error
                if l2 < (round?.2 ?? bestL2) { round = (site, g, l2) }
            }
            guard let (site, g, l2) = round else { break }
            chosen.append(site)
            best = g
            bestL2 = l2
        }
        print("discriminator parity: \(sites.count) activation(s) within \(tieThreshold) of the kink")
        return (best, chosen)
    }

    /// The grid a layer's outputs lie on: b<R>.fromrgb and .conv0 at R, .conv1 at R / 2, b4.* at 4
    /// (b4.fc taken as one cell over the whole image).
    static func layerResolution(_ layer: String, imgResolution: Int) -> Int {
        if layer == "b4.fc" { return 1 }
        guard let r = Int(layer.dropFirst().prefix { $0.isNumber }) else { return 1 }
        return layer.hasSuffix(".conv1") ? r / 2 : r
    }

    /// A forward that stops at a block gives that block's activations bit for bit, and a backward from
    /// the blocks alone needs nothing of the epilogue.
    @Test(.enabled(if: sharedFixtures, "../shared is absent: the discriminator fixtures live there"), arguments: fixtures)
    func stoppingEarlyChangesNothingBefore(fixture: String) throws {
        let d = try Self.fixtureDiscriminator(fixture)
        let golden = try SafeTensorsFile(path: Self.shared(fixture, "d_case.safetensors"))
        let img = try golden.tensor("img")
        let full = DiscriminatorWorkspace(discriminator: d, batch: 4)
        d.forward(img, workspace: full)
        let early = DiscriminatorWorkspace(discriminator: d, batch: 4)
        let stop = DiscriminatorOutput.block(resolution: 16)
        d.forward(img, through: stop, workspace: early)
        #expect(early.forwardThrough == stop)
        var upstream: [DiscriminatorOutput: Tensor] = [:]
        for r in d.config.blockResolutions where r >= 16 {
            #expect(early.activation(.block(resolution: r)) == full.activation(.block(resolution: r)))
            upstream[.block(resolution: r)] = try golden.tensor("upstream/b\(r)")
        }
        #expect(d.backward(upstream, workspace: early) == d.backward(upstream, workspace: full))
    }

    // MARK: - The plain reference

    /// Random small discriminators (asymmetric filters catch a flip the backward misses) against the
    /// float64 reference, every output, by each path: Winograd from 16 px (the default), from 4 px
    /// (every stride-1 conv, the epilogue's too) or never, with the default budget or one row (tile
    /// row) a piece; and the same bits with 1, 2 and 3 workers (the pieces never follow the workers).
    @Test(arguments: DiscriminatorSpec.cases)
    func fastPathMatchesTheReference(spec: DiscriminatorSpec) throws {
        try BLAS.load()
        let (d, reference) = try spec.build(seed: 5)
        var rng = TestRandom(seed: 9)
        let img = rng.tensor([spec.batch, spec.imgChannels, spec.resolution, spec.resolution])
        var trace = ReferenceDiscriminator.Trace()
        let expected = reference.forward(img.doubles, batch: spec.batch, epilogue: spec.epilogue, trace: &trace)
        let last = spec.epilogue ? DiscriminatorOutput.logits : .block(resolution: 8)
        func run(threads: Int, budget: Int = 1 << 18, winogradFrom: Int = DiscriminatorWorkspace.defaultWinogradFrom) -> [DiscriminatorOutput: Tensor] {
            let ws = DiscriminatorWorkspace(
                discriminator: d, batch: spec.batch, columnBudget: budget, minimumFLOPsPerWorker: 0, winogradFrom: winogradFrom, threads: threads)
            d.forward(img, through: last, workspace: ws)
            var out: [DiscriminatorOutput: Tensor] = [:]
            for o in d.outputs where o <= last { out[o] = ws.activation(o) }
            return out
        }
        let paths: [(String, [DiscriminatorOutput: Tensor], [DiscriminatorOutput: Tensor])] = [
            ("default", run(threads: 1), run(threads: 3)),
            ("one row a piece", run(threads: 2, budget: 1), run(threads: 3, budget: 1)),
            ("no Winograd", run(threads: 1, winogradFrom: .max), run(threads: 2, winogradFrom: .max)),
            ("Winograd from 4 px, one tile row a piece", run(threads: 1, budget: 1, winogradFrom: 4), run(threads: 3, budget: 1, winogradFrom: 4)),
        ]
        for (label, ours, again) in paths {
            for (o, t) in ours.sorted(by: { $0.key < $1.key }) {
                let r = try #require(expected[o.name])
                // float32 against float64 over K <= 9 * 6 sums (Winograd's transforms add a few 1e-7):
                // measured <= 1.2e-6 of each tensor's largest value.
                check("\(spec) \(label) \(o)", t, Tensor(shape: t.shape, values: r.map(Float.init)), tolerance: 1e-5)
                #expect(again[o] == t, "\(spec) \(label) \(o): the worker count changed the bits")
            }
        }
    }

    // MARK: - Loading

    /// The tiny32 pickle's D (its _init_kwargs give conv_clamp and the group size) equals
    /// discriminator.safetensors tensor for tensor, with the conv_clamp config.json gives.
    @Test(.enabled(if: sharedFixtures, "../shared is absent: the official network.pkl fixtures live there"), arguments: fixtures)
    func pickleEqualsTheSafetensors(fixture: String) throws {
        let pkl = try DiscriminatorCheckpoint.load(path: Self.shared(fixture, "network.pkl"))
        #expect(pkl.format == "NVIDIA pickle (D)")
        let st = try Self.fixtureDiscriminator(fixture)
        let p = pkl.discriminator
        #expect(p.config == st.config)
        #expect(p.config.convClamp == (try Self.convClamp(fixture)))
        #expect(p.config.mbstdGroupSize == 4 && p.config.mbstdChannels == 1)
        #expect(p.blocks.count == st.blocks.count)
        for (a, b) in zip(p.blocks, st.blocks) {
            for (x, y) in zip([a.fromrgb, a.conv0, a.conv1, a.skip], [b.fromrgb, b.conv0, b.conv1, b.skip]) {
                #expect(x?.name == y?.name)
                #expect(x.map { sameBits($0.weight, y!.weight) } ?? (y == nil), "\(x?.name ?? "?") weight")
                #expect(x?.bias == y?.bias, "\(x?.name ?? "?") bias")
                #expect(x?.filterTaps == y?.filterTaps)
            }
        }
        #expect(sameBits(p.epilogue.conv.weight, st.epilogue.conv.weight) && p.epilogue.conv.bias == st.epilogue.conv.bias)
        #expect(sameBits(p.epilogue.fc.weight, st.epilogue.fc.weight) && p.epilogue.fc.bias == st.epilogue.fc.bias)
        #expect(sameBits(p.epilogue.out.weight, st.epilogue.out.weight) && p.epilogue.out.bias == st.epilogue.out.bias)
        let img = try SafeTensorsFile(path: Self.shared(fixture, "d_case.safetensors")).tensor("img")
        #expect(p(img)[.logits] == st(img)[.logits])
    }

    /// The bundled model's discriminator: its metadata config read and checked against its tensors.
    @Test(.enabled(if: sharedFixtures, "../shared is absent: the bundled model lives there"))
    func bundledDiscriminatorConfig() throws {
        let path = try #require(Fixtures.shared?.appendingPathComponent("models/bbb64.discriminator.safetensors").path)
        let c = try DiscriminatorCheckpoint.load(path: path)
        #expect(c.convClampRecorded)
        #expect(c.discriminator.config == DiscriminatorConfig(imgResolution: 64, channelBase: 4096, channelMax: 128, convClamp: 256))
        #expect(c.discriminator.config.json == c.metadata["config"])
        #expect(c.discriminator.outputs.map(\.name) == ["b64", "b32", "b16", "b8", "b4.mbstd", "b4.conv", "b4.fc", "logits"])
    }

    /// Truncated, garbage and wrong files: a LinstoryError that names the file, never a crash.
    @Test func badFilesThrowErrorsNamingTheFile() throws {
        let folder = try TemporaryFolder("linstory-discriminator")
        let tensors = DiscriminatorSpec(resolution: 16, channels: [4, 8, 8]).tensors(seed: 1)
        let good = folder.path + "/d.safetensors"
        try SafeTensorsWriter.write(tensors.sorted { $0.key < $1.key }, metadata: [:], to: good)
        let bytes = try AtomicFile.read(good)
        var cases: [(String, [UInt8])] = [
            ("truncated", Array(bytes.prefix(bytes.count * 2 / 3))),
            ("garbage", (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }),
            ("empty", []),
            ("pickle-garbage", [0x80, 0x04] + Array(repeating: 0x7f, count: 64)),
        ]
        // A generator where a discriminator is expected, and a config that contradicts the tensors.
        var generator = tensors
        generator["mapping.fc0.weight"] = Tensor(zeros: [4, 4])
        let conflicting = folder.path + "/conflict.safetensors"
        try SafeTensorsWriter.write(
            tensors.sorted { $0.key < $1.key }, metadata: ["config": #"{"img_resolution": 32, "conv_clamp": 256}"#], to: conflicting)
        cases.append(("conflict", try AtomicFile.read(conflicting)))
        var missing = tensors
        missing["b8.skip.weight"] = nil
        let missingPath = folder.path + "/missing.safetensors"
        try SafeTensorsWriter.write(missing.sorted { $0.key < $1.key }, metadata: [:], to: missingPath)
        cases.append(("missing", try AtomicFile.read(missingPath)))
        var badShape = tensors
        badShape["b4.fc.weight"] = Tensor(zeros: [8, 100])
        let badShapePath = folder.path + "/shape.safetensors"
        try SafeTensorsWriter.write(badShape.sorted { $0.key < $1.key }, metadata: [:], to: badShapePath)
        cases.append(("shape", try AtomicFile.read(badShapePath)))
        for (name, content) in cases {
            let path = folder.path + "/\(name).bin"
            try AtomicFile.write(content, to: path)
            do {
                _ = try Discriminator.load(path: path)
                Issue.record("\(name): loaded without an error")
            } catch let e as LinstoryError {
                print("discriminator load \(name): \(e)")
                #expect(e.file == path, "\(name): \(e)")
            }
        }
        do {
            _ = try Discriminator.load(path: folder.path + "/absent.safetensors")
            Issue.record("absent file loaded")
        } catch let e as LinstoryError {
            #expect(e.kind == .notFound && e.file == folder.path + "/absent.safetensors")
        }
        // The generator's own pickle has a D; its weights file has none.
        if Self.sharedFixtures {
            do {
                _ = try Discriminator.load(path: Self.shared("tiny32", "weights.safetensors"))
                Issue.record("a generator loaded as a discriminator")
            } catch let e as LinstoryError {
                print("discriminator load generator: \(e)")
                #expect(e.file == Self.shared("tiny32", "weights.safetensors"))
            }
        }
    }
}
