import Engine
import Testing
import TestSupport

/// The engine's analytic backward against central finite differences of the float64 reference
/// (`ReferenceStyleGAN2`), layer kind by layer kind, on tiny random generators with fixed seeds.
///
/// The scalar is L = Σ img * U for a random upstream U [N, C, R, R]. Every element of every tensor is
/// checked (the shapes are tiny); each difference uses h = 1e-6 * max(1, |x|), so in float64 the
/// truncation and rounding errors are ~1e-9 relative, far below the engine's float32 error.
/// A point is only used when no lrelu input lies within `kinkMargin` of zero (a difference across the
/// kink measures neither slope) and, with a clamp, no value lies within it of the clamp's edge;
/// otherwise the next seed is drawn.
@Suite("Finite differences against the engine's backward")
struct FiniteDifferenceTests {
    /// The differences are float64 (truncation h^2 f''' ~ 1e-12, rounding 2^-53 |L| / h ~ 1e-10 |L|), so
    /// the error is the engine's float32 backward: K <= 27 sums through 2 blocks, Winograd in one case,
    /// measured <= 5e-6 of the largest gradient (scalar noise_strength sums included; either OpenBLAS
    /// kernel). 1e-3 is 200x that: loose, but a wrong flip, gain or missing term is off by >= 1e-2.
    static let tolerance: Float = 1e-3
    /// The engine's forward is within ~1e-6 of the reference, and a difference step moves an activation
    /// by ~1e-6 * |gradient|: 1e-4 keeps every lrelu input / clamp edge on one side for both.
    static let kinkMargin = 1e-4

    enum Noise: String, Sendable { case none, const, explicitSharedFirst, explicitPerSampleFirst }

    /// One point at which to differentiate: a generator (engine and reference), inputs, upstream.
    struct Problem {
        var engine: Generator
        var reference: ReferenceStyleGAN2
        var batch: Int
        var ws: Tensor  // [N, num_ws, w_dim]
        var upstream: Tensor  // [N, C, R, R]
        var noise: NoiseMode
        var referenceNoise: ReferenceNoise
        var seed: UInt64
        var trace: ReferenceTrace

        /// L = Σ img * U in float64.
        func loss(_ r: ReferenceStyleGAN2, ws: [Double], noise: ReferenceNoise) -> Double {
            var t = ReferenceTrace()
            let img = r.synthesis(ws: ws, batch: batch, noise: noise, trace: &t)
            return zip(img, upstream.doubles).reduce(0) { $0 + $1.0 * $1.1 }
        }

        /// The engine's gradients of L at this point.
        func engineGradients(chunkBudget: Int = 1 << 22) -> SynthesisGradients {
            // Every phase split, however small, so that the parallel paths are the ones checked.
            // chunkBudget 1 also takes every plain layer (b4 up) through Winograd, one tile row per chunk.
            let workspace = SynthesisWorkspace(
                network: engine.synthesis, batch: batch, chunkBudget: chunkBudget, workerColumnBudget: chunkBudget == 1 ? 1 : 1 << 18,
                minimumFLOPsPerWorker: 0, winogradFrom: chunkBudget == 1 ? 4 : 16)
            _ = engine.synthesis.forward(ws, noise: noise, workspace: workspace)
            return engine.synthesis.backward(upstream, workspace: workspace, ws: ws, parameterGradients: true)
        }
    }

    /// The first seed from `seed` on whose point the reference is smooth (see the suite comment).
    /// `accept` may ask more of the point (e.g. that the clamp is active).
    static func problem(
        _ spec: TinyGeneratorSpec, seed: UInt64, batch n: Int, noise: Noise, clamp: Float? = nil,
        accept: (ReferenceTrace) -> Bool = { _ in true }
    ) throws -> Problem {
        for attempt in 0..<40 {
            let s = seed &+ UInt64(attempt) &* 1000
            let (g, reference) = try spec.build(seed: s, convClamp: clamp)
            var rng = TestRandom(seed: s &+ 7)
            let ws = rng.tensor([n, g.synthesis.numWs, g.synthesis.wDim])
            let upstream = rng.tensor([n, spec.imgChannels, spec.resolution, spec.resolution])
            let modes: (NoiseMode, ReferenceNoise)
            switch noise {
            case .none: modes = (.none, .none)
            case .const: modes = (.const, .const)
            case .explicitSharedFirst, .explicitPerSampleFirst:
                modes = TinyInputs.explicitNoise(
                    resolutions: g.synthesis.noiseResolutions, batch: n, firstShared: noise == .explicitSharedFirst, rng: &rng)
            }
            var trace = ReferenceTrace()
            _ = reference.synthesis(ws: ws.doubles, batch: n, noise: modes.1, trace: &trace)
            if trace.minAbsPreActivation > kinkMargin && trace.minClampDistance > kinkMargin && accept(trace) {
                if attempt > 0 { print("finite-difference: seed \(seed) redrawn \(attempt) time(s) to \(s)") }
                return Problem(
                    engine: g, reference: reference, batch: n, ws: ws, upstream: upstream, noise: modes.0,
                    referenceNoise: modes.1, seed: s, trace: trace)
            }
        }
        throw TestFailure("no smooth point found from seed \(seed)")
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// (L(x + h e_i) - L(x - h e_i)) / 2h for every i, h = 1e-6 * max(1, |x_i|).
    static func centralDifferences(_ x: [Double], _ loss: ([Double]) -> Double) -> [Double] {
        var fd = [Double](repeating: 0, count: x.count)
        var p = x
        for i in x.indices {
            let h = 1e-6 * max(1, abs(x[i]))
            p[i] = x[i] + h
            let up = loss(p)
            p[i] = x[i] - h
            let down = loss(p)
            p[i] = x[i]
            fd[i] = (up - down) / (2 * h)
        }
        return fd
    }

    /// Engine vs finite differences: max |diff| <= tolerance * max |fd|, worst element printed.
    /// `nonZero` asks that the gradient is not identically zero (so the check can fail).
    @discardableResult
    static func check(_ label: String, analytic: Tensor, fd: [Double], nonZero: Bool = true) -> TensorComparison {
        #expect(analytic.count == fd.count, "\(label): \(analytic.count) engine elements, \(fd.count) differences")
        let c = TensorComparison(label, ours: analytic, reference: Tensor(shape: analytic.shape, values: fd.map(Float.init)))
        print("finite-difference \(c)")
        if nonZero { #expect(c.maxAbsReference > 0, "\(label): the finite differences are all zero") }
        #expect(c.relativeError <= tolerance, "\(c)")
        return c
    }

    /// Rows [N, w_dim] of latent `index` from a [N, num_ws, w_dim] array.
    static func latent(_ x: [Float], index: Int, batch n: Int, numWs: Int, wDim: Int) -> Tensor {
        Tensor(shape: [n, wDim], values: (0..<(n * wDim)).map { x[(($0 / wDim) * numWs + index) * wDim + $0 % wDim] })
    }

    // MARK: - Synthesis

    struct Case: Sendable, CustomStringConvertible {
        var batch: Int
        var noise: Noise
        var spec: TinyGeneratorSpec
        var chunkBudget = 1 << 22
        var description: String { "N\(batch) noise \(noise) \(spec)\(chunkBudget == 1 ? " chunk 1, Winograd from b4" : "")" }
    }

    static let cases: [Case] = [
        Case(batch: 1, noise: .none, spec: TinyGeneratorSpec()),
        Case(batch: 3, noise: .const, spec: TinyGeneratorSpec()),
        Case(batch: 3, noise: .explicitSharedFirst, spec: TinyGeneratorSpec(), chunkBudget: 1),
        // Asymmetric filters: a backward that flips a FIR differently from its forward shows here.
        Case(batch: 2, noise: .explicitPerSampleFirst, spec: TinyGeneratorSpec(filterTaps: [1, 2, 5, 1], imageFilterTaps: [3, 1, 2, 6])),
    ]

    /// d/d ws, checked per w index (each layer's latent; a ToRGB shares its index with the next conv0).
    @Test(arguments: cases)
    func wsGradients(_ c: Case) throws {
        try BLAS.load()
        let p = try Self.problem(c.spec, seed: 11, batch: c.batch, noise: c.noise)
        let grads = p.engineGradients(chunkBudget: c.chunkBudget)
        let fd = Self.centralDifferences(p.ws.doubles) { p.loss(p.reference, ws: $0, noise: p.referenceNoise) }
        let numWs = p.engine.synthesis.numWs
        let wDim = p.engine.synthesis.wDim
        for index in 0..<numWs {
            Self.check(
                "\(c) d/d ws[:, \(index)]", analytic: Self.latent(grads.ws.scalars, index: index, batch: c.batch, numWs: numWs, wDim: wDim),
                fd: Self.latent(fd.map(Float.init), index: index, batch: c.batch, numWs: numWs, wDim: wDim).doubles)
        }
    }

    /// d/d each conv layer's noise: caller maps ([1, R, R] shared or [N, R, R] per sample), or the
    /// noise_const buffers ([R, R]) in const mode.
    @Test(arguments: cases.filter { $0.noise != .none })
    func noiseGradients(_ c: Case) throws {
        try BLAS.load()
        let p = try Self.problem(c.spec, seed: 23, batch: c.batch, noise: c.noise)
        let grads = p.engineGradients(chunkBudget: c.chunkBudget)
        let names = p.reference.convLayerNames
        #expect(grads.noise.count == names.count)
        let ws = p.ws.doubles
        for (layer, name) in names.enumerated() {
            let fd: [Double]
            switch p.referenceNoise {
            case .explicit(let maps):
                fd = Self.centralDifferences(maps[layer]) { m in
                    var perturbed = maps
                    perturbed[layer] = m
                    return p.loss(p.reference, ws: ws, noise: .explicit(perturbed))
                }
            default:
                fd = Self.centralDifferences(p.reference.parameters[name + ".noise_const"]!) { m in
                    var r = p.reference
                    r.parameters[name + ".noise_const"] = m
                    return p.loss(r, ws: ws, noise: .const)
                }
            }
            Self.check("\(c) d/d noise \(name) \(grads.noise[layer].shape)", analytic: grads.noise[layer], fd: fd)
        }
    }

    /// d/d every synthesis parameter by official name: b4.const, each conv layer's weight, bias,
    /// noise_strength and affine, each ToRGB's weight, bias and affine (b8.conv0 is the up-sampling conv).
    @Test(arguments: cases)
    func parameterGradients(_ c: Case) throws {
        try BLAS.load()
        let p = try Self.problem(c.spec, seed: 37, batch: c.batch, noise: c.noise)
        let grads = p.engineGradients(chunkBudget: c.chunkBudget)
        let ws = p.ws.doubles
        let shapes = p.engine.synthesis.parameterShapes()
        #expect(Set(grads.parameters.keys) == Set(shapes.map(\.0)))
        for (name, _) in shapes {
            let analytic = try #require(grads.parameters[name], "no engine gradient for \(name)")
            let fd = Self.centralDifferences(p.reference.parameters[name]!) { v in
                var r = p.reference
                r.parameters[name] = v
                return p.loss(r, ws: ws, noise: p.referenceNoise)
            }
            // Without noise, noise_strength has no effect: its gradient must be (and is checked) zero.
            let unused = c.noise == .none && name.hasSuffix(".noise_strength")
            Self.check("\(c) d/d \(name)", analytic: analytic, fd: fd, nonZero: !unused)
            if unused { #expect(analytic.scalars.allSatisfy { $0 == 0 }) }
        }
    }

    /// With a clamp small enough to bite in every layer: gradients still match the finite
    /// differences, and wherever the reference's difference is exactly zero because every path is
    /// clamped (a noise pixel whose every channel is clamped leaves the image bit-for-bit unchanged),
    /// the engine's gradient is exactly zero too.
    @Test func clampedActivationsHaveZeroGradient() throws {
        try BLAS.load()
        let spec = TinyGeneratorSpec()
        var chosen: Problem?
        // The first clamp that bites everywhere and leaves no value within the margin of its edge.
        for clamp: Float in [0.35, 0.4, 0.45, 0.5, 0.55, 0.6] {
            if let p = try? Self.problem(spec, seed: 51, batch: 3, noise: .explicitPerSampleFirst, clamp: clamp, accept: {
                $0.clampedPerConvLayer.allSatisfy { $0 > 0 } && $0.clampedToRGB > 0
            }) {
                print("finite-difference clamp \(clamp): clamped per conv layer \(p.trace.clampedPerConvLayer), torgb \(p.trace.clampedToRGB)")
                chosen = p
                break
            }
        }
        let p = try #require(chosen, "no clamp value gave a usable point")
        let grads = p.engineGradients()
        let ws = p.ws.doubles
        guard case .explicit(let maps) = p.referenceNoise else { Issue.record("explicit noise expected"); return }
        var exactZeros = 0
        for (layer, name) in p.reference.convLayerNames.enumerated() {
            let fd = Self.centralDifferences(maps[layer]) { m in
                var perturbed = maps
                perturbed[layer] = m
                return p.loss(p.reference, ws: ws, noise: .explicit(perturbed))
            }
            Self.check("clamp d/d noise \(name)", analytic: grads.noise[layer], fd: fd)
            let analytic = grads.noise[layer].scalars
            for i in fd.indices where fd[i] == 0 {
                exactZeros += 1
                #expect(analytic[i] == 0, "clamp: \(name) noise element \(i) is clamped on every channel but has gradient \(analytic[i])")
            }
        }
        print("finite-difference clamp: \(exactZeros) noise elements clamped on every channel")
        #expect(exactZeros > 0, "the clamp left no noise element fully clamped; the zero-gradient check did not run")
        let wsFD = Self.centralDifferences(ws) { p.loss(p.reference, ws: $0, noise: p.referenceNoise) }
        Self.check("clamp d/d ws", analytic: grads.ws, fd: wsFD)
        for (name, _) in p.engine.synthesis.parameterShapes() {
            let fd = Self.centralDifferences(p.reference.parameters[name]!) { v in
                var r = p.reference
                r.parameters[name] = v
                return p.loss(r, ws: ws, noise: p.referenceNoise)
            }
            Self.check("clamp d/d \(name)", analytic: grads.parameters[name]!, fd: fd, nonZero: false)
        }
    }

    // MARK: - Mapping

    /// MappingNetwork.backward alone: L = Σ mapping(z) * V for a random V [N, num_ws, w_dim].
    @Test(arguments: [1, 3])
    func mappingGradients(batch n: Int) throws {
        try BLAS.load()
        let spec = TinyGeneratorSpec(zDim: 3, wDim: 4, mappingLayers: 3)
        for attempt in 0..<40 {
            let seed = 61 + UInt64(attempt) * 1000
            let (g, reference) = try spec.build(seed: seed)
            var rng = TestRandom(seed: seed &+ 5)
            let z = rng.tensor([n, spec.zDim])  // [N, z_dim]
            let v = rng.tensor([n, spec.numWs, spec.wDim])  // [N, num_ws, w_dim]
            var trace = ReferenceTrace()
            _ = reference.mapping(z: z.doubles, batch: n, trace: &trace)
            if trace.minAbsPreActivation <= Self.kinkMargin { continue }
            func loss(_ r: ReferenceStyleGAN2, _ z: [Double]) -> Double {
                var t = ReferenceTrace()
                return zip(r.mapping(z: z, batch: n, trace: &t), v.doubles).reduce(0) { $0 + $1.0 * $1.1 }
            }
            let (gz, params) = g.mapping.backward(z, upstream: v, parameterGradients: true)
            Self.check("mapping N\(n) d/d z", analytic: gz, fd: Self.centralDifferences(z.doubles) { loss(reference, $0) })
            try checkMappingParameters(params, reference: reference, label: "mapping N\(n)") { loss($0, z.doubles) }
            return
        }
        Issue.record("no smooth point found")
    }

    /// d/d z and the mapping parameters through the whole generator: synthesis backward's d/d ws fed
    /// to MappingNetwork.backward, against differences of Σ G(z) * U.
    @Test func generatorGradientsThroughMapping() throws {
        try BLAS.load()
        let spec = TinyGeneratorSpec()
        let n = 3
        for attempt in 0..<40 {
            let seed = 71 + UInt64(attempt) * 1000
            let (g, reference) = try spec.build(seed: seed)
            var rng = TestRandom(seed: seed &+ 9)
            let z = rng.tensor([n, spec.zDim])  // [N, z_dim]
            let upstream = rng.tensor([n, spec.imgChannels, spec.resolution, spec.resolution])  // [N, C, R, R]
            var trace = ReferenceTrace()
            _ = reference.generate(z: z.doubles, batch: n, noise: .const, trace: &trace)
            if trace.minAbsPreActivation <= Self.kinkMargin { continue }
            func loss(_ r: ReferenceStyleGAN2, _ z: [Double]) -> Double {
                var t = ReferenceTrace()
                return zip(r.generate(z: z, batch: n, noise: .const, trace: &t), upstream.doubles).reduce(0) { $0 + $1.0 * $1.1 }
            }
            let ws = g.mapping(z)
            let workspace = SynthesisWorkspace(network: g.synthesis, batch: n)
            _ = g.synthesis.forward(ws, noise: .const, workspace: workspace)
            let sg = g.synthesis.backward(upstream, workspace: workspace, ws: ws)
            let (gz, params) = g.mapping.backward(z, upstream: sg.ws, parameterGradients: true)
            Self.check("generator d/d z", analytic: gz, fd: Self.centralDifferences(z.doubles) { loss(reference, $0) })
            try checkMappingParameters(params, reference: reference, label: "generator") { loss($0, z.doubles) }
            return
        }
        Issue.record("no smooth point found")
    }

    func checkMappingParameters(
        _ params: [String: Tensor], reference: ReferenceStyleGAN2, label: String, loss: (ReferenceStyleGAN2) -> Double
    ) throws {
        var names: [String] = []
        for l in 0..<reference.mappingLayers { names += ["mapping.fc\(l).weight", "mapping.fc\(l).bias"] }
        #expect(Set(params.keys) == Set(names))
        for name in names {
            let analytic = try #require(params[name], "no engine gradient for \(name)")
            let fd = Self.centralDifferences(reference.parameters[name]!) { v in
                var r = reference
                r.parameters[name] = v
                return loss(r)
            }
            Self.check("\(label) d/d \(name)", analytic: analytic, fd: fd)
        }
    }
}
