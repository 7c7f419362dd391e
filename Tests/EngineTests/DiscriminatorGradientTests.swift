// Over 400 lines on purpose: the float64 reference discriminator that the finite differences (and
// DiscriminatorParityTests' fast-path check) run lives beside them, with the random specs it is built from.

import Engine
import Foundation
import Testing
import TestSupport

/// The discriminator's input gradient against central finite differences of the float64 reference
/// (`ReferenceDiscriminator`, below), on small random discriminators; and the adjoints of its kernels.
///
/// The scalar is L = sum over the chosen outputs of sum(output * U) for random upstreams U. Each
/// difference uses h = 1e-6 * max(1, |x|) in float64 (truncation ~h^2 f''', rounding ~2^-53 |L| / h:
/// both ~1e-10 relative), so what is measured is the engine's float32 backward. A point is used only
/// when no lrelu input lies within `kinkMargin` of zero and no clamped value within it of the clamp's
/// edge (a difference across a kink measures neither slope); otherwise the next seed is drawn.
@Suite("Discriminator input gradient against finite differences")
struct DiscriminatorGradientTests {
    /// float32 backward through <= 9 * 6-term sums and 2-3 blocks: measured <= 5.3e-7 of the largest
    /// gradient over every case. 1e-4 is ~200x that, and still tight: dropping the minibatch std's own
    /// gradient (the group coupling) is off by 4e-3 to 5e-2, dropping the skip gain by far more.
    static let tolerance: Float = 1e-4
    /// The engine's forward is within ~1e-6 of the reference and a step moves an activation by ~1e-6:
    /// 1e-4 keeps every kink and clamp edge on one side for both.
    static let kinkMargin = 1e-4

    struct Case: Sendable, CustomStringConvertible {
        var spec: DiscriminatorSpec
        /// Outputs with an upstream gradient.
        var outputs: [String]
        /// Check every `stride`-th input element (odd strides: every row, column and channel gets
        /// visited; a reference forward of a sample costs ~7 ms in a debug build).
        var stride = 1
        var columnBudget = 1 << 18
        var winogradFrom = DiscriminatorWorkspace.defaultWinogradFrom
        var description: String {
            "\(spec) d/d img of \(outputs.joined(separator: "+"))\(stride > 1 ? " every \(stride)th" : "")"
                + (columnBudget == 1 ? " one row a piece" : "")
                + (winogradFrom == .max ? " no Winograd" : winogradFrom < 16 ? " Winograd from \(winogradFrom) px" : "")
        }
    }

    static let small = DiscriminatorSpec(resolution: 16, imgChannels: 2, channels: [3, 4, 4])
    static let all = ["b16", "b8", "b4.mbstd", "b4.conv", "b4.fc", "logits"]

    static let cases: [Case] = [
        // The fixtures' combination: one group of 4, every output; Winograd in every stride-1 conv.
        Case(spec: small, outputs: all, stride: 5, columnBudget: 1, winogradFrom: 4),
        // A group of min(4, 2) = 2 through the logits alone.
        Case(spec: with(small) { $0.batch = 2 }, outputs: ["logits"], stride: 3),
        // Two interleaved groups (samples 0, 2, 4, 6 and 1, 3, 5, 7), two features of 2 channels.
        Case(spec: with(small) { $0.batch = 8; $0.features = 2 }, outputs: ["b4.mbstd", "b4.fc"], stride: 11),
        // The whole batch as one group of 3, an asymmetric filter, a clamp that bites.
        Case(
            spec: with(small) { $0.batch = 3; $0.groupSize = nil; $0.filter = [3, 1, 2, 6]; $0.convClamp = 0.5 }, outputs: all, stride: 5,
            columnBudget: 1, winogradFrom: .max),
        // A batch of 6, which NVIDIA's epilogue refuses (4 does not divide 6): the blocks alone.
        Case(spec: with(small) { $0.batch = 6; $0.epilogue = false }, outputs: ["b16", "b8"], stride: 7),
        // Three blocks, upstream on the middle one only (the backward stops at b16, skips b8 and b4).
        Case(spec: DiscriminatorSpec(resolution: 32, imgChannels: 1, channels: [2, 3, 3, 4], filter: [1, 2, 5, 1], batch: 2), outputs: ["b16"], stride: 9),
    ]

    static func with(_ s: DiscriminatorSpec, _ change: (inout DiscriminatorSpec) -> Void) -> DiscriminatorSpec {
        var s = s
        change(&s)
        return s
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
    }

    @Test(arguments: cases)
    func inputGradient(_ c: Case) throws {
        try BLAS.load()
        let spec = c.spec
        let n = spec.batch, r = spec.resolution
        for attempt in 0..<40 {
            let seed = UInt64(17 + attempt * 1000)
            let (d, reference) = try spec.build(seed: seed)
            var rng = TestRandom(seed: seed &+ 3)
            let img = Tensor(shape: [n, spec.imgChannels, r, r], values: rng.normals(n * spec.imgChannels * r * r, scale: 0.5))
            var upstream: [DiscriminatorOutput: Tensor] = [:]
            for name in c.outputs {
                let o = try #require(DiscriminatorOutput(name: name))
                upstream[o] = rng.tensor(d.shape(of: o, batch: n))
            }
            var trace = ReferenceDiscriminator.Trace()
            _ = reference.forward(img.doubles, batch: n, epilogue: spec.epilogue, trace: &trace)
            guard trace.minAbsPreActivation > Self.kinkMargin && trace.minClampDistance > Self.kinkMargin else { continue }
            if spec.convClamp != nil { #expect(trace.clamped > 0, "\(c): the clamp never bites") }
            if attempt > 0 { print("discriminator finite-difference: \(c) redrawn \(attempt) time(s)") }

            let ws = DiscriminatorWorkspace(
                discriminator: d, batch: n, columnBudget: c.columnBudget, minimumFLOPsPerWorker: 0, winogradFrom: c.winogradFrom, threads: 3)
            let deepest = upstream.keys.max()!
            d.forward(img, through: deepest, workspace: ws)
            let analytic = d.backward(upstream, workspace: ws)

            // A step in sample s changes only s's blocks: the others' are computed once.
            let u = upstream.map { ($0.key.name, $0.value.doubles) }
            let per = img.count / n
            var x = img.doubles
            var t = ReferenceDiscriminator.Trace()
            var samples = (0..<n).map { s in reference.blocks(Array(x[(s * per)..<((s + 1) * per)]), trace: &t) }
            func loss(sample s: Int) -> Double {
                samples[s] = reference.blocks(Array(x[(s * per)..<((s + 1) * per)]), trace: &t)
                let out = reference.assemble(samples, epilogue: spec.epilogue, trace: &t)
                return u.reduce(0) { acc, pair in acc + zip(out[pair.0]!, pair.1).reduce(0) { $0 + $1.0 * $1.1 } }
            }
            var ours: [Float] = []
            var fd: [Float] = []
            for i in Swift.stride(from: 0, to: x.count, by: c.stride) {
                let h = 1e-6 * max(1, abs(x[i]))
                let x0 = x[i]
                x[i] = x0 + h
                let up = loss(sample: i / per)
                x[i] = x0 - h
                let down = loss(sample: i / per)
                x[i] = x0
                samples[i / per] = reference.blocks(Array(x[(i / per * per)..<((i / per + 1) * per)]), trace: &t)
                fd.append(Float((up - down) / (2 * h)))
                ours.append(analytic[flat: i])
            }
            let cmp = TensorComparison("\(c)", ours: Tensor(shape: [ours.count], values: ours), reference: Tensor(shape: [fd.count], values: fd))
            print("discriminator finite-difference \(cmp)")
            #expect(cmp.maxAbsReference > 0, "\(c): the finite differences are all zero")
            #expect(cmp.relativeError <= Self.tolerance, "\(cmp)")
            return
        }
        throw TestFailure(description: "\(c): no smooth point in 40 seeds")
    }

    /// NVIDIA's minibatch std reshapes N into [G, N / G]: a batch the group does not divide cannot run
    /// the epilogue (there or here), but its blocks can.
    @Test func groupsMustDivideTheBatch() throws {
        let c = DiscriminatorConfig(imgResolution: 16, imgChannels: 3, channels: [4, 4, 4], convClamp: nil)
        #expect(c.mbstdGroup(batch: 6) == 4 && !c.epilogueAccepts(batch: 6))
        #expect(c.mbstdGroup(batch: 2) == 2 && c.epilogueAccepts(batch: 2))
        #expect(c.epilogueAccepts(batch: 8) && c.epilogueAccepts(batch: 1) && !c.epilogueAccepts(batch: 5))
        #expect(c.mbstdGroup(batch: 3) == 3 && c.epilogueAccepts(batch: 3))
        var whole = c
        whole.mbstdGroupSize = nil
        #expect(whole.epilogueAccepts(batch: 6) && whole.mbstdGroup(batch: 6) == 6)
        var none = c
        none.mbstdChannels = 0
        #expect(none.epilogueAccepts(batch: 6))
    }

    // MARK: - Kernels

    /// The separable FIR (both of the discriminator's geometries, asymmetric taps, widths that leave
    /// a tail after the eight-lane loops) against its plain loop, and its adjoint through
    /// <A x, g> = <x, A^T g> (also accumulating onto what is there).
    @Test(arguments: [(2, 1, 16, 16), (1, 2, 16, 16), (2, 1, 13, 21), (1, 2, 10, 6), (2, 1, 4, 4), (1, 2, 64, 64)])
    func firMatchesItsReferenceAndAdjoint(pad: Int, down: Int, height: Int, width: Int) {
        let axis = FIRAxis(taps: [0.1, 0.5, 0.15, 0.25], pad0: pad, pad1: pad, down: down)
        let planes = 3
        let oh = axis.outputLength(height), ow = axis.outputLength(width)
        var rng = TestRandom(seed: UInt64(height * 100 + width))
        let x = rng.normals(planes * height * width)
        let g = rng.normals(planes * oh * ow)
        let base = rng.normals(planes * height * width)
        var fast = [Float](repeating: .nan, count: planes * oh * ow)
        var plain = [Float](repeating: .nan, count: planes * oh * ow)
        var adjoint = [Float](repeating: .nan, count: planes * height * width)
        var accumulated = base
        var scratch = [Float](repeating: .nan, count: axis.scratchCount(height: height, width: width))
        firDown2d(x, planes: planes, height: height, width: width, axis: axis, into: &fast, scratch: &scratch)
        firDown2dReference(x, planes: planes, height: height, width: width, axis: axis, into: &plain)
        firDown2dAdjoint(g, planes: planes, height: height, width: width, axis: axis, into: &adjoint, accumulate: false, scratch: &scratch)
        firDown2dAdjoint(g, planes: planes, height: height, width: width, axis: axis, into: &accumulated, accumulate: true, scratch: &scratch)
        let c = TensorComparison("fir \(axis)", ours: Tensor(shape: [fast.count], values: fast), reference: Tensor(shape: [plain.count], values: plain))
        #expect(c.relativeError <= 1e-6, "\(c)")
        let lhs = ReferenceOps.dot(fast, g), rhs = ReferenceOps.dot(x, adjoint)
        #expect(abs(lhs - rhs) <= 1e-5 * ReferenceOps.absDot(fast, g), "adjoint: <A x, g> \(lhs), <x, A^T g> \(rhs)")
        #expect(zip(accumulated, zip(base, adjoint)).allSatisfy { abs($0 - ($1.0 + $1.1)) <= 1e-6 * max(1, abs($0)) })
    }

    /// The stride-2 lowering and its scatter are adjoint: <im2col(x), c> = <x, col2im(c)>, for
    /// row ranges that split samples.
    @Test func stride2LoweringIsAdjointToItsScatter() {
        let (c, n, hin) = (3, 2, 9)
        let ho = (hin - 3) / 2 + 1
        var rng = TestRandom(seed: 4)
        let x = rng.normals(c * n * hin * hin)
        for rows in [0..<(n * ho), 1..<6, 4..<5] {
            let g = rng.normals(c * 9 * rows.count * ho)
            var cols = [Float](repeating: .nan, count: g.count)
            var gx = [Float](repeating: 0, count: x.count)
            im2col3x3Stride2Rows(x, channels: c, batch: n, inHeight: hin, inWidth: hin, outHeight: ho, outWidth: ho, rows: rows, into: &cols)
            col2im3x3Stride2RowsAccumulate(g, channels: c, batch: n, inHeight: hin, inWidth: hin, outHeight: ho, outWidth: ho, rows: rows, into: &gx)
            let lhs = ReferenceOps.dot(cols, g), rhs = ReferenceOps.dot(x, gx)
            #expect(abs(lhs - rhs) <= 1e-5 * ReferenceOps.absDot(cols, g), "rows \(rows): \(lhs) vs \(rhs)")
        }
    }

    /// Forward + backward at batch 8 on the bundled model's discriminator (64 px), as a perceptual
    /// loss runs it: through b16 with upstream on b64 ... b16, and through the logits with every
    /// output (also without Winograd, to show what it gains). Run in release with
    /// LINSTORY_DISCRIMINATOR_BENCH=1 (`swift test -c release`).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LINSTORY_DISCRIMINATOR_BENCH"] != nil && Fixtures.shared != nil))
    func timing() throws {
        let path = try #require(Fixtures.shared?.appendingPathComponent("models/bbb64.discriminator.safetensors").path)
        let d = try Discriminator.load(path: path)
        let n = 8
        var rng = TestRandom(seed: 1)
        let img = Tensor(shape: [n, 3, 64, 64], values: rng.normals(n * 3 * 64 * 64, scale: 0.5).map { max(-1, min(1, $0)) })
        func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15 }
        for (label, through, winogradFrom) in [
            ("blocks b64-b16", DiscriminatorOutput.block(resolution: 16), DiscriminatorWorkspace.defaultWinogradFrom),
            ("all outputs", .logits, DiscriminatorWorkspace.defaultWinogradFrom), ("all outputs, no Winograd", .logits, .max),
        ] {
            let ws = DiscriminatorWorkspace(discriminator: d, batch: n, winogradFrom: winogradFrom)
            var upstream: [DiscriminatorOutput: Tensor] = [:]
            for o in d.outputs where o <= through { upstream[o] = rng.tensor(d.shape(of: o, batch: n)) }
            var forward: [Double] = [], total: [Double] = []
            for i in 0..<12 {
                let t0 = ContinuousClock.now
                d.forward(img, through: through, workspace: ws)
                let t1 = ContinuousClock.now
                _ = d.backward(upstream, workspace: ws)
                let t2 = ContinuousClock.now
                if i >= 2 {
                    forward.append(ms(t1 - t0))
                    total.append(ms(t2 - t0))
                }
            }
            forward.sort()
            total.sort()
            print(
                "discriminator timing bbb64 N\(n) \(label), \(ws.threads) threads: forward \(forward[forward.count / 2]) ms, "
                    + "forward+backward \(total[total.count / 2]) ms (median of \(total.count); best \(total[0]) ms)")
        }
    }
}

// MARK: - Random discriminators and the reference

/// A small random discriminator: resolution, the channels at each resolution (first block's first,
/// 4 px last), minibatch-std features and group, the resample filter's taps (asymmetric catches a
/// flip), conv_clamp, and the batch to run.
struct DiscriminatorSpec: Sendable, CustomStringConvertible {
    var resolution = 16
    var imgChannels = 3
    var channels = [4, 6, 6]
    var features = 1
    var groupSize: Int? = 4
    var filter: [Float] = [1, 3, 3, 1]
    var convClamp: Float?
    var batch = 4
    /// Whether the batch runs through the epilogue (its group must divide it).
    var epilogue = true

    var description: String {
        "R\(resolution) ch\(channels) F\(features) G\(groupSize.map(String.init) ?? "all") N\(batch) filter\(filter.map { Int($0) })"
            + (convClamp.map { " clamp \($0)" } ?? "") + (epilogue ? "" : " blocks only")
    }

    static let cases: [DiscriminatorSpec] = [
        DiscriminatorSpec(),
        DiscriminatorSpec(resolution: 32, imgChannels: 1, channels: [2, 4, 4, 6], features: 2, groupSize: 2, filter: [1, 2, 5, 1], batch: 4),
        DiscriminatorSpec(channels: [4, 6, 4], features: 2, groupSize: nil, filter: [3, 1, 2, 6], convClamp: 0.6, batch: 3),
        DiscriminatorSpec(batch: 6, epilogue: false),
    ]

    /// Official names, Gaussian weights, biases around 0.
    func tensors(seed: UInt64) -> [String: Tensor] {
        var rng = TestRandom(seed: seed)
        let sum = filter.reduce(0, +)
        let f2 = Tensor(shape: [4, 4], values: filter.flatMap { a in filter.map { b in a * b / (sum * sum) } })
        var t: [String: Tensor] = [:]
        var res = resolution
        var i = 0
        while res >= 8 {
            let p = "b\(res)"
            let tc = channels[i], o = channels[i + 1]
            t["\(p).resample_filter"] = f2
            if res == resolution {
                t["\(p).fromrgb.weight"] = rng.tensor([tc, imgChannels, 1, 1])
                t["\(p).fromrgb.bias"] = rng.tensor([tc], scale: 0.2)
                t["\(p).fromrgb.resample_filter"] = f2
            }
            t["\(p).conv0.weight"] = rng.tensor([tc, tc, 3, 3])
            t["\(p).conv0.bias"] = rng.tensor([tc], scale: 0.2)
            t["\(p).conv0.resample_filter"] = f2
            t["\(p).conv1.weight"] = rng.tensor([o, tc, 3, 3])
            t["\(p).conv1.bias"] = rng.tensor([o], scale: 0.2)
            t["\(p).conv1.resample_filter"] = f2
            t["\(p).skip.weight"] = rng.tensor([o, tc, 1, 1])
            t["\(p).skip.resample_filter"] = f2
            res /= 2
            i += 1
        }
        let c = channels[channels.count - 1]
        t["b4.conv.weight"] = rng.tensor([c, c + features, 3, 3])
        t["b4.conv.bias"] = rng.tensor([c], scale: 0.2)
        t["b4.conv.resample_filter"] = f2
        t["b4.fc.weight"] = rng.tensor([c, c * 16])
        t["b4.fc.bias"] = rng.tensor([c], scale: 0.2)
        t["b4.out.weight"] = rng.tensor([1, c])
        t["b4.out.bias"] = rng.tensor([1], scale: 0.2)
        return t
    }

    func build(seed: UInt64) throws -> (Discriminator, ReferenceDiscriminator) {
        let t = tensors(seed: seed)
        let d = try DiscriminatorLoader.build(tensors: t, convClamp: convClamp, mbstdGroupSize: groupSize, file: "random discriminator")
        return (d, ReferenceDiscriminator(tensors: t, convClamp: convClamp, groupSize: groupSize))
    }
}

/// A plain float64 discriminator transcribed from NVIDIA's stylegan2-ada-pytorch
/// (`training/networks.py`: Discriminator, DiscriminatorBlock 'resnet', MinibatchStdLayer,
/// DiscriminatorEpilogue, Conv2dLayer, FullyConnectedLayer; `conv2d_resample.py`; `_upfirdn2d_ref`)
/// over NVIDIA's NCHW layout, sharing nothing with the engine's formulation: direct convolution
/// loops (`ReferenceOps`), the stored 2D 4x4 filter flipped and correlated where the engine runs
/// separable taps, a strided conv taken as every other output of the full one, the 1x1 down path's
/// FIR followed by NVIDIA's `x[:, :, ::2, ::2]`, minibatch std through the literal reshape. Slow: tiny
/// discriminators only.
struct ReferenceDiscriminator {
    var parameters: [String: [Double]]
    let shapes: [String: [Int]]
    let convClamp: Double?
    let groupSize: Int?

    init(tensors: [String: Tensor], convClamp: Float?, groupSize: Int?) {
        parameters = tensors.mapValues(\.doubles)
        shapes = tensors.mapValues(\.shape)
        self.convClamp = convClamp.map(Double.init)
        self.groupSize = groupSize
    }

    /// Where the function is not smooth: lrelu kinks and clamp edges, for finite differences.
    struct Trace {
        var minAbsPreActivation = Double.infinity
        var minClampDistance = Double.infinity
        var clamped = 0
    }

    var resolution: Int { shapes.keys.compactMap { $0.hasSuffix(".fromrgb.weight") ? Int($0.dropFirst().prefix { $0.isNumber }) : nil }.max()! }

    /// Conv2dLayer.forward: conv2d_resample, then bias_act(b, act, act_gain * gain, clamp * gain).
    /// x [N, I, H, H]; returns [N, O, Ho, Ho] and Ho.
    func conv2dLayer(
        _ name: String, _ x: [Double], batch n: Int, size h: Int, down: Int, lrelu: Bool, gain: Double, clamp: Double?,
        trace: inout Trace
    ) -> ([Double], Int) {
        let ws = shapes[name + ".weight"]!
        let co = ws[0], ci = ws[1], k = ws[2]
        let weightGain = 1 / Double(ci * k * k).squareRoot()
        let w = parameters[name + ".weight"]!.map { $0 * weightGain }
        let f = parameters[name + ".resample_filter"] ?? []
        var out: [Double] = []
        var ho = 0
        for s in 0..<n {
            var sample = Array(x[(s * ci * h * h)..<((s + 1) * ci * h * h)])
            var size = h
            if down == 2 {
                // conv2d_resample: px0 = px1 = k / 2 + (fw - down + 1) / 2 and (fw - down) / 2 = 1 each.
                let pad = k / 2 + 1
                let fir = ReferenceOps.upfirdn2d(
                    sample, planes: ci, height: h, width: h, filter: f, filterHeight: 4, filterWidth: 4, up: 1,
                    padX0: pad, padX1: pad, padY0: pad, padY1: pad, gain: 1)
                sample = fir.out
                size = fir.height
                if k == 1 {
                    // upfirdn2d(down=2): x[:, :, ::2, ::2].
                    let half = (size + 1) / 2
                    sample = (0..<(ci * half * half)).map { i in
                        let c = i / (half * half), y = i / half % half, xx = i % half
                        return sample[(c * size + 2 * y) * size + 2 * xx]
                    }
                    size = half
                }
            }
            let conv = ReferenceOps.conv2d(
                sample, channels: ci, height: size, width: size, weight: w, outChannels: co, kernel: k, padding: down == 2 ? 0 : k / 2)
            var y = conv.out
            var oh = conv.height
            if down == 2 && k == 3 {
                // Stride 2: every other output of the stride-1 valid conv.
                let half = (oh - 1) / 2 + 1
                y = (0..<(co * half * half)).map { i in
                    let o = i / (half * half), yy = i / half % half, xx = i % half
                    return y[(o * oh + 2 * yy) * oh + 2 * xx]
                }
                oh = half
            }
            ho = oh
            let bias = parameters[name + ".bias"]
            let actGain = (lrelu ? 2.0.squareRoot() : 1) * gain
            for o in 0..<co {
                for p in 0..<(oh * oh) {
                    var v = y[o * oh * oh + p] + (bias?[o] ?? 0)
                    if lrelu {
                        trace.minAbsPreActivation = min(trace.minAbsPreActivation, abs(v))
                        v = v > 0 ? v : 0.2 * v
                    }
                    v *= actGain
                    if let c = clamp.map({ $0 * gain }) {
                        trace.minClampDistance = min(trace.minClampDistance, abs(abs(v) - c))
                        if abs(v) > c { trace.clamped += 1 }
                        v = min(max(v, -c), c)
                    }
                    y[o * oh * oh + p] = v
                }
            }
            out += y
        }
        return (out, ho)
    }

    /// FullyConnectedLayer.forward (lr_multiplier 1): x [N, In] -> [N, Out].
    func fullyConnected(_ name: String, _ x: [Double], batch n: Int, lrelu: Bool, trace: inout Trace) -> [Double] {
        let s = shapes[name + ".weight"]!
        let fo = s[0], fi = s[1]
        let w = parameters[name + ".weight"]!, b = parameters[name + ".bias"]!
        let gain = 1 / Double(fi).squareRoot()
        var y = [Double](repeating: 0, count: n * fo)
        for r in 0..<n {
            for j in 0..<fo {
                var acc = 0.0
                for i in 0..<fi { acc += x[r * fi + i] * w[j * fi + i] * gain }
                var v = acc + b[j]
                if lrelu {
                    trace.minAbsPreActivation = min(trace.minAbsPreActivation, abs(v))
                    v = (v > 0 ? v : 0.2 * v) * 2.0.squareRoot()
                }
                y[r * fo + j] = v
            }
        }
        return y
    }

    /// MinibatchStdLayer.forward: x [N, C, H, W] -> [N, C + F, H, W].
    func minibatchStd(_ x: [Double], batch n: Int, channels c: Int, size h: Int, features f: Int) -> [Double] {
        let g = min(groupSize ?? n, n)
        let m = n / g
        let cPer = c / f
        let hw = h * h
        // y = x.reshape(G, M, F, c, H, W): element (g, m, f, ci, p) is x[g M + m, f c + ci, p].
        func at(_ gi: Int, _ mi: Int, _ fi: Int, _ ci: Int, _ p: Int) -> Double { x[((gi * m + mi) * c + fi * cPer + ci) * hw + p] }
        var stat = [Double](repeating: 0, count: m * f)
        for mi in 0..<m {
            for fi in 0..<f {
                var acc = 0.0
                for ci in 0..<cPer {
                    for p in 0..<hw {
                        let mean = (0..<g).reduce(0.0) { $0 + at($1, mi, fi, ci, p) } / Double(g)
                        let variance = (0..<g).reduce(0.0) { $0 + (at($1, mi, fi, ci, p) - mean) * (at($1, mi, fi, ci, p) - mean) } / Double(g)
                        acc += (variance + 1e-8).squareRoot()
                    }
                }
                stat[mi * f + fi] = acc / Double(cPer * hw)
            }
        }
        // y.reshape(-1, F, 1, 1).repeat(G, 1, H, W): sample s takes group s % M's stats.
        var out: [Double] = []
        for s in 0..<n {
            out += x[(s * c * hw)..<((s + 1) * c * hw)]
            for fi in 0..<f { out += [Double](repeating: stat[(s % m) * f + fi], count: hw) }
        }
        return out
    }

    /// Every output by name ("b16", ..., "b4.mbstd", "b4.conv", "b4.fc", "logits") for img [N, C, R, R];
    /// the epilogue only when `epilogue`.
    func forward(_ img: [Double], batch n: Int, epilogue: Bool = true, trace: inout Trace) -> [String: [Double]] {
        let per = img.count / n
        let samples = (0..<n).map { s in blocks(Array(img[(s * per)..<((s + 1) * per)]), trace: &trace) }
        return assemble(samples, epilogue: epilogue, trace: &trace)
    }

    /// The blocks' outputs ("b16", "b8", ...) for one sample img [C, R, R]: the blocks treat the
    /// samples one by one (only the epilogue's minibatch std mixes them).
    func blocks(_ img: [Double], trace: inout Trace) -> [String: [Double]] {
        var out: [String: [Double]] = [:]
        var res = resolution
        let half = 0.5.squareRoot()
        var (x, h) = conv2dLayer("b\(res).fromrgb", img, batch: 1, size: res, down: 1, lrelu: true, gain: 1, clamp: convClamp, trace: &trace)
        while res >= 8 {
            let p = "b\(res)"
            let (y, _) = conv2dLayer("\(p).skip", x, batch: 1, size: h, down: 2, lrelu: false, gain: half, clamp: nil, trace: &trace)
            let (c0, _) = conv2dLayer("\(p).conv0", x, batch: 1, size: h, down: 1, lrelu: true, gain: 1, clamp: convClamp, trace: &trace)
            let (c1, h1) = conv2dLayer("\(p).conv1", c0, batch: 1, size: h, down: 2, lrelu: true, gain: half, clamp: convClamp, trace: &trace)
            x = zip(y, c1).map { $0 + $1 }
            h = h1
            out[p] = x
            res /= 2
        }
        return out
    }

    /// The batch's outputs from each sample's `blocks`, then the epilogue on the batch when asked.
    func assemble(_ samples: [[String: [Double]]], epilogue: Bool, trace: inout Trace) -> [String: [Double]] {
        let n = samples.count
        var out: [String: [Double]] = [:]
        for key in samples[0].keys { out[key] = samples.flatMap { $0[key]! } }
        guard epilogue else { return out }
        let x = out["b8"]!
        let cs = shapes["b4.conv.weight"]!
        let c = cs[0], f = cs[1] - cs[0]
        let mb = f > 0 ? minibatchStd(x, batch: n, channels: c, size: 4, features: f) : x
        out["b4.mbstd"] = mb
        let (conv, _) = conv2dLayer("b4.conv", mb, batch: n, size: 4, down: 1, lrelu: true, gain: 1, clamp: convClamp, trace: &trace)
        out["b4.conv"] = conv
        let fc = fullyConnected("b4.fc", conv, batch: n, lrelu: true, trace: &trace)
        out["b4.fc"] = fc
        out["logits"] = fullyConnected("b4.out", fc, batch: n, lrelu: false, trace: &trace)
        return out
    }
}
