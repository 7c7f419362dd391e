import Engine
import Foundation
import Testing
import TestSupport

/// LPIPS (VGG, v0.1) against the `lpips` package: tools/make_lpips_fixture.py ran lpips 0.1.4 with
/// random VGG16 weights (regenerated here from numpy's RandomState, which NumpyRandomState draws
/// bit for bit) and random linear layers (lin.pth, read through the .pth path), and wrote its
/// distances and torch autograd's input gradients to Tests/Fixtures/lpips/cases.safetensors.
/// Besides: finite differences of a float64 reference on a narrow network, the gradient contract,
/// the target cache, the weight files' errors, and the kernels against plain loops.
@Suite("LPIPS") final class LPIPSTests {
    let folder: TemporaryFolder

    init() throws { folder = try TemporaryFolder("linstory-lpips") }

    // MARK: - Weights the fixture was made with

    /// The script's VGG_SEED, BIAS_STD; keep in step with tools/make_lpips_fixture.py.
    static let vggSeed: UInt32 = 1
    static let biasStd = 0.05

    /// VGG16 `features` weights as the script draws them: one RandomState stream, for each convolution
    /// in order weight = randn(O, I, 3, 3) * sqrt(2 / (9 I)), then bias = randn(O) * BIAS_STD, in
    /// float64 rounded to float32. `widths` other than VGG16's make a narrow network of its structure.
    static func randomVGG(seed: UInt32 = vggSeed, widths: [Int] = LPIPSWeights.standardWidths) -> [String: Tensor] {
        var random = NumpyRandomState(seed: seed)
        var out: [String: Tensor] = [:]
        var inChannels = 3
        for (index, o) in zip(LPIPSWeights.featureIndices, widths) {
            let std = (2.0 / Double(inChannels * 9)).squareRoot()
            out["features.\(index).weight"] = Tensor(shape: [o, inChannels, 3, 3]) { w in
                for i in w.indices { w[i] = Float(random.nextGaussian() * std) }
            }
            out["features.\(index).bias"] = Tensor(shape: [o]) { b in
                for i in b.indices { b[i] = Float(random.nextGaussian() * biasStd) }
            }
            inChannels = o
        }
        return out
    }

    /// Linear layers for a narrow network: uniform [0, 1), like the script's.
    static func randomLinear(seed: UInt32, widths: [Int]) -> [String: Tensor] {
        var random = NumpyRandomState(seed: seed)
        var out: [String: Tensor] = [:]
        for (k, tap) in LPIPSWeights.taps.enumerated() {
            out["lin\(k).model.1.weight"] = Tensor(shape: [1, widths[tap], 1, 1]) { w in
                for i in w.indices { w[i] = Float(random.nextDouble()) }
            }
        }
        return out
    }

    static let linPath = Fixtures.path("lpips/lin.pth")
    static let fixtureVGG = randomVGG()
    static let fixtureWeights = Result {
        try LPIPSWeights(
            vgg: fixtureVGG, lin: LPIPSWeights.stateDict(path: linPath), vggFile: "random VGG16 (seed 1)", linFile: linPath)
    }

    static let narrowWidths = [4, 4, 6, 6, 8, 8, 8, 10, 10, 10, 6, 6, 6]
    static func narrowWeights(seed: UInt32 = 21) throws -> LPIPSWeights {
        try LPIPSWeights(
            vgg: randomVGG(seed: seed, widths: narrowWidths), lin: randomLinear(seed: seed + 1, widths: narrowWidths),
            vggFile: "narrow VGG", linFile: "narrow lin", standardWidths: false)
    }

    // MARK: - Parity with the lpips package

    static let cases = ["a64", "b32", "c36x44"]

    @Test(arguments: cases)
    func matchesLpipsPackage(name: String) throws {
        try BLAS.load()
        let loss = LPIPSLoss(weights: try Self.fixtureWeights.get())
        let file = try SafeTensorsFile(path: Fixtures.path("lpips/cases.safetensors"))
        let x0 = try file.tensor("\(name).x0"), x1 = try file.tensor("\(name).x1")
        let expected = try file.tensor("\(name).distance").scalars
        let expectedLayers = try file.tensor("\(name).per_layer")
        let expectedGradient = try file.tensor("\(name).grad_x0")

        var gradient: Tensor? = Tensor(zeros: x0.shape)
        let distances = loss.evaluate(x0, x1, gradient: &gradient)
        var worst = 0.0
        for (ours, theirs) in zip(distances, expected) { worst = max(worst, Double(abs(ours - theirs)) / Double(theirs)) }
        let layers = loss.layerDistances(x0, x1)
        var worstLayer = 0.0
        for k in 0..<5 {
            for s in 0..<x0.shape[0] {
                let theirs = expectedLayers[flat: k * x0.shape[0] + s]
                worstLayer = max(worstLayer, Double(abs(layers[k][s] - theirs)) / Double(theirs))
            }
        }
        let comparison = TensorComparison("\(name) d/d x0", ours: gradient!, reference: expectedGradient)
        print("lpips parity \(name): distances ours \(distances) lpips \(expected), worst relative \(worst), worst layer \(worstLayer); \(comparison)")
        // Float32 throughout on both sides, VGG's sums over up to 4608 products in other orders
        // (OpenBLAS against torch's oneDNN): measured <= 4.7e-7 relative (<= 3e-6 for one layer's term,
        // the smallest of which is 2.7e-3). 1e-5 = 20x, 3e-5 = 10x.
        #expect(worst <= 1e-5, "\(name): distances \(distances), lpips \(expected)")
        #expect(worstLayer <= 3e-5, "\(name): per layer \(layers)")
        // Against the largest element (~1e-3): measured <= 6.4e-6, in L2 <= 7e-6. 1e-4 = 15x. This holds
        // only because the script keeps the images' VGG activations clear of ReLU and pool kinks (see
        // KINK_MARGIN there): one ReLU input of 5e-7 that rounding puts on the other side moved a
        // quarter of a 32 x 32 gradient by 0.3 %.
        #expect(comparison.relativeError <= 1e-4, "\(comparison)")
        #expect(comparison.relativeL2Error <= 1e-4, "\(comparison)")
    }

    @Test func linearLayersReadFromZipAndLegacyFiles() throws {
        let zip = try LPIPSWeights.stateDict(path: Self.linPath)
        let legacy = try LPIPSWeights.stateDict(path: Fixtures.path("lpips/lin-legacy.pth"))
        #expect(zip.keys.sorted() == (0..<5).map { "lin\($0).model.1.weight" })
        #expect(zip == legacy)
        for (k, c) in [64, 128, 256, 512, 512].enumerated() {
            let t = try #require(zip["lin\(k).model.1.weight"])
            #expect(t.shape == [1, c, 1, 1])
            #expect(t.scalars.allSatisfy { $0 >= 0 && $0 < 1 })
        }
    }

    /// The whole path from two files, the VGG one written here in torchvision's layout (with classifier
    /// keys, which are not used) as the legacy torch.save stream `vgg16-397923af.pth` is in.
    @Test func loadsFromFiles() throws {
        try BLAS.load()
        var entries: TorchSaveWriter.StateDict = LPIPSWeights.featureIndices.flatMap { i in
            ["weight", "bias"].map { ("features.\(i).\($0)", Self.fixtureVGG["features.\(i).\($0)"]!) }
        }
        entries.append(("classifier.0.weight", Tensor(shape: [2, 3], repeating: 0.5)))
        entries.append(("classifier.6.bias", Tensor(shape: [2], repeating: -1)))
        let vggPath = folder.path + "/vgg16.pth"
        try AtomicFile.write(TorchSaveWriter.legacy([], tensors: entries), to: vggPath)
        let fromFiles = try LPIPSLoss(vggPath: vggPath, linPath: Self.linPath)
        let fromWeights = LPIPSLoss(weights: try Self.fixtureWeights.get())
        let file = try SafeTensorsFile(path: Fixtures.path("lpips/cases.safetensors"))
        let x0 = try file.tensor("b32.x0"), x1 = try file.tensor("b32.x1")
        #expect(fromFiles.evaluate(x0, x1) == fromWeights.evaluate(x0, x1))
        #expect(fromFiles.name == "lpips")
    }

    /// The real files, when given: LINSTORY_LPIPS_LIN=.../lpips/weights/v0.1/vgg.pth (in the lpips wheel)
    /// and optionally LINSTORY_LPIPS_VGG=.../vgg16-397923af.pth (torchvision's), both legacy torch.save streams.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LINSTORY_LPIPS_LIN"] != nil))
    func realWeightFiles() throws {
        try BLAS.load()
        let environment = ProcessInfo.processInfo.environment
        let linPath = environment["LINSTORY_LPIPS_LIN"]!
        let lin = try LPIPSWeights.stateDict(path: linPath)
        let vgg = try environment["LINSTORY_LPIPS_VGG"].map(LPIPSWeights.stateDict(path:)) ?? Self.fixtureVGG
        let weights = try LPIPSWeights(vgg: vgg, lin: lin, vggFile: environment["LINSTORY_LPIPS_VGG"] ?? "random VGG16", linFile: linPath)
        // The trained linear layers are non-negative (lpips clamps them while training).
        #expect(weights.linear.allSatisfy { $0.scalars.allSatisfy { $0 >= 0 } })
        let (p, t) = Self.images(seed: 3, n: 2, h: 64, w: 64)
        let loss = LPIPSLoss(weights: weights)
        let d = loss.evaluate(p, t)
        print("lpips with \(linPath): sums of the linear layers \(weights.linear.map { $0.scalars.reduce(0, +) }), distances \(d)")
        #expect(d.allSatisfy { $0.isFinite && $0 > 0 })
        #expect(loss.evaluate(p, p) == [0, 0])
    }

    // MARK: - Errors

    /// The error `body` throws, which must be a LinstoryError.
    func failure(_ body: () throws -> Void) -> LinstoryError? {
        do {
            try body()
            return nil
        } catch let e as LinstoryError {
            return e
        } catch {
            Issue.record("not a LinstoryError: \(error)")
            return nil
        }
    }

    @Test func weightFileErrorsNameTheFile() throws {
        let wrongShapes = Fixtures.path("lpips/vgg-wrong-shapes.pth")
        let missing = folder.path + "/no-such/vgg16.pth"
        let garbage = folder.path + "/garbage.pth"
        var random = NumpyRandomState(seed: 5)
        try AtomicFile.write((0..<3000).map { _ in UInt8(truncatingIfNeeded: random.nextUInt32()) }, to: garbage)
        let truncated = folder.path + "/truncated.pth"
        let linBytes = try AtomicFile.read(Self.linPath)
        try AtomicFile.write(Array(linBytes.prefix(linBytes.count / 2)), to: truncated)

        let cases: [(String, String, String, LinstoryError.Kind, String, String)] = [
            // (what, vgg file, lin file, kind, file named, words in the message)
            ("missing file", missing, Self.linPath, .notFound, missing, "cannot open"),
            ("missing key", Self.linPath, Self.linPath, .notFound, Self.linPath, "missing tensor 'features.0.weight'"),
            ("wrong shape", wrongShapes, Self.linPath, .mismatch, wrongShapes, "'features.0.weight' has shape [64, 3, 3], expected [64, 3, 3, 3]"),
            ("garbage", garbage, Self.linPath, .wrongFormat, garbage, "not a torch.save file"),
            // Both files are read before either is checked, so the lin file's error shows here.
            ("truncated lin", wrongShapes, truncated, .wrongFormat, truncated, "not a zip archive"),
        ]
        for (what, vgg, lin, kind, file, words) in cases {
            let e = failure { _ = try LPIPSLoss(vggPath: vgg, linPath: lin) }
            #expect(e != nil, "\(what): no error")
            guard let e else { continue }
            print("lpips error, \(what): \(e)")
            #expect(e.file == file, "\(what): \(e)")
            #expect(e.message.hasPrefix(file + ": "), "\(what): \(e)")
            #expect(!e.message.contains("\n"), "\(what): \(e)")
            #expect(e.kind == kind, "\(what): \(e)")
            #expect(e.message.contains(words), "\(what): \(e)")
        }
    }

    @Test func dictionaryErrors() throws {
        let lin = try LPIPSWeights.stateDict(path: Self.linPath)
        var missingLin = lin
        missingLin["lin3.model.1.weight"] = nil
        var wrongLin = lin
        wrongLin["lin2.model.1.weight"] = Tensor(zeros: [1, 128, 1, 1])
        var nanLin = lin
        nanLin["lin0.model.1.weight"] = Tensor(shape: [1, 64, 1, 1], repeating: .nan)
        var batchNorm = Self.fixtureVGG
        batchNorm["features.1.running_mean"] = Tensor(zeros: [64])
        var missingVGG = Self.fixtureVGG
        missingVGG["features.28.bias"] = nil
        let cases: [(String, [String: Tensor], [String: Tensor], LinstoryError.Kind, String, String)] = [
            ("missing lin", Self.fixtureVGG, missingLin, .notFound, "lin.pth", "missing tensor 'lin3.model.1.weight'"),
            ("wrong lin", Self.fixtureVGG, wrongLin, .mismatch, "lin.pth", "'lin2.model.1.weight' has shape [1, 128, 1, 1], expected [1, 256, 1, 1]"),
            ("NaN lin", Self.fixtureVGG, nanLin, .corrupt, "lin.pth", "'lin0.model.1.weight' holds nan"),
            ("batch norm", batchNorm, lin, .mismatch, "vgg.pth", "unexpected tensor 'features.1.running_mean'"),
            ("missing bias", missingVGG, lin, .notFound, "vgg.pth", "missing tensor 'features.28.bias'"),
        ]
        for (what, vgg, lin, kind, file, words) in cases {
            let e = failure { _ = try LPIPSWeights(vgg: vgg, lin: lin, vggFile: "vgg.pth", linFile: "lin.pth") }
            #expect(e?.kind == kind && e?.file == file && e?.message.contains(words) == true, "\(what): \(String(describing: e))")
        }
        // Narrow widths are refused unless asked for.
        let narrow = Self.randomVGG(seed: 3, widths: Self.narrowWidths)
        let e = failure { _ = try LPIPSWeights(vgg: narrow, lin: lin, vggFile: "vgg.pth", linFile: "lin.pth") }
        #expect(e?.kind == .mismatch && e?.message.contains("'features.0.weight' has shape [4, 3, 3, 3], expected [64, 3, 3, 3]") == true)
    }

    // MARK: - Gradient

    /// LPIPS in float64 by plain loops, per sample: the reference for finite differences.
    static func reference(_ images: [Double], _ target: [Double], n: Int, h: Int, w: Int, weights: LPIPSWeights) -> [Double] {
        let convs = weights.convolutions.map { (w: $0.weight.scalars.map(Double.init), b: $0.bias.scalars.map(Double.init), o: $0.outChannels) }
        func taps(_ x: ArraySlice<Double>) -> [(values: [Double], c: Int, positions: Int)] {
            var a = [Double](repeating: 0, count: 3 * h * w)
            for c in 0..<3 {
                for p in 0..<(h * w) {
                    a[c * h * w + p] = (x[x.startIndex + c * h * w + p] - Double(LPIPSLoss.shift[c])) / Double(LPIPSLoss.scale[c])
                }
            }
            var (gh, gw, channels) = (h, w, 3)
            var out: [([Double], Int, Int)] = []
            for j in 0..<13 {
                if LPIPSWeights.pooledBefore.contains(j) {
                    let (oh, ow) = (gh / 2, gw / 2)
                    var pooled = [Double](repeating: 0, count: channels * oh * ow)
                    for c in 0..<channels {
                        for i in 0..<oh {
                            for k in 0..<ow {
                                let at = { (dy: Int, dx: Int) in a[(c * gh + 2 * i + dy) * gw + 2 * k + dx] }
                                pooled[(c * oh + i) * ow + k] = max(max(at(0, 0), at(0, 1)), max(at(1, 0), at(1, 1)))
                            }
                        }
                    }
                    (a, gh, gw) = (pooled, oh, ow)
                }
                a = PlainConv3x3.reference(
                    a, inChannels: channels, batch: 1, height: gh, width: gw, weight: convs[j].w, outChannels: convs[j].o,
                    bias: convs[j].b, relu: true)
                channels = convs[j].o
                if LPIPSWeights.taps.contains(j) { out.append((a, channels, gh * gw)) }
            }
            return out
        }
        let per = 3 * h * w
        return (0..<n).map { s in
            let fx = taps(images[(s * per)..<((s + 1) * per)]), ft = taps(target[(s * per)..<((s + 1) * per)])
            var total = 0.0
            for k in 0..<5 {
                let (c, positions) = (fx[k].c, fx[k].positions)
                let lin = weights.linear[k].scalars.map(Double.init)
                var sum = 0.0
                for p in 0..<positions {
                    var nx = 0.0, nt = 0.0
                    for ch in 0..<c {
                        nx += fx[k].values[ch * positions + p] * fx[k].values[ch * positions + p]
                        nt += ft[k].values[ch * positions + p] * ft[k].values[ch * positions + p]
                    }
                    let sx = nx.squareRoot() + 1e-10, st = nt.squareRoot() + 1e-10
                    for ch in 0..<c {
                        let d = fx[k].values[ch * positions + p] / sx - ft[k].values[ch * positions + p] / st
                        sum += lin[ch] * d * d
                    }
                }
                total += sum / Double(positions)
            }
            return total
        }
    }

    /// Random smooth-ish images in [-1, 1]: a sine pattern plus noise, and a noisier copy (LossFixtures).
    static func images(seed: UInt32, n: Int, h: Int, w: Int) -> (Tensor, Tensor) {
        LossFixtures.images(seed: seed, n: n, c: 3, h: h, w: w)
    }

    @Test(arguments: [[1, 16, 20], [2, 19, 16]])
    func gradientMatchesFiniteDifferences(shape: [Int]) throws {
        try BLAS.load()
        let (n, h, w) = (shape[0], shape[1], shape[2])
        let weights = try Self.narrowWeights()
        let loss = LPIPSLoss(weights: weights)
        let (p, t) = Self.images(seed: 13, n: n, h: h, w: w)
        var g: Tensor? = Tensor(zeros: p.shape)
        let values = loss.evaluate(p, t, gradient: &g)
        let x = p.scalars.map(Double.init), y = t.scalars.map(Double.init)
        let reference = Self.reference(x, y, n: n, h: h, w: w, weights: weights)
        var worstValue = 0.0
        for (ours, theirs) in zip(values, reference) {
            worstValue = max(worstValue, abs(Double(ours) - theirs) / theirs)
            // Float32 against float64 on a narrow net (sums of <= 90 products): measured <= 2e-7 relative.
            #expect(abs(Double(ours) - theirs) <= 1e-5 * theirs, "\(shape): ours \(ours), float64 reference \(theirs)")
        }
        let f = { (v: [Double]) in Self.reference(v, y, n: n, h: h, w: w, weights: weights).reduce(0, +) }
        let grad = g!.scalars.map(Double.init)
        let norm = grad.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let largest = grad.map(abs).max()!
        #expect(largest > 0)
        var random = GaussianNoise(seed: 77)
        var worstDirectional = 0.0
        for _ in 0..<3 {
            let direction = (0..<x.count).map { _ in Double(random.next()) }
            let fd = ReferenceLosses.centralDifference(f, at: x, direction: direction)
            let analytic = zip(grad, direction).reduce(0) { $0 + $1.0 * $1.1 }
            let error = abs(fd - analytic) / max(abs(fd), 0.1 * norm)
            worstDirectional = max(worstDirectional, error)
            // A float32 gradient dotted with a random direction; ReLU and pool kinks within the 1e-6
            // step are rare and move it little. Measured <= 5e-6; 1e-4 = 20x.
            #expect(error < 1e-4, "\(shape): directional fd \(fd), analytic \(analytic)")
        }
        let top = grad.indices.sorted { abs(grad[$0]) > abs(grad[$1]) }.prefix(4)
        let picks = Array(top) + (0..<8).map { _ in Int(random.nextUInt64() % UInt64(x.count)) }
        var worstSingle = 0.0
        for index in picks {
            let fd = ReferenceLosses.centralDifference(f, at: x, index: index)
            worstSingle = max(worstSingle, abs(fd - grad[index]) / largest)
            // One element, float32: measured <= 2.5e-6 of the largest. 2e-5 = 8x.
            #expect(abs(fd - grad[index]) <= 2e-5 * largest, "\(shape) at \(index): fd \(fd), analytic \(grad[index]) (largest \(largest))")
        }
        print("lpips finite differences \(shape): value vs float64 \(worstValue), directional worst \(worstDirectional), single worst \(worstSingle) of the largest")
    }

    @Test func gradientAccumulatesWithScale() throws {
        try BLAS.load()
        let loss = LPIPSLoss(weights: try Self.narrowWeights())
        let (p, t) = Self.images(seed: 2, n: 2, h: 32, w: 32)
        var plain: Tensor? = Tensor(zeros: p.shape)
        let values = loss.evaluate(p, t, gradient: &plain)
        var accumulated: Tensor? = Tensor(shape: p.shape, repeating: 1)
        #expect(loss.evaluate(p, t, accumulatingGradient: &accumulated, scale: 2) == values)
        _ = loss.evaluate(p, t, accumulatingGradient: &accumulated, scale: -0.5)
        let expected = Tensor(shape: p.shape, values: plain!.scalars.map { 1 + 1.5 * $0 })
        let comparison = TensorComparison("lpips", ours: accumulated!, reference: expected)
        // 1 + 2 g - 0.5 g against 1 + 1.5 g, values ~1: two float32 roundings.
        #expect(comparison.maxAbsDiff < 1e-6, "\(comparison)")
        var none: Tensor? = nil
        #expect(loss.evaluate(p, t, gradient: &none) == values)
        #expect(loss.evaluate(p, t) == values)
        // Identical images: distance 0, gradient 0 (every difference of normalised features is 0).
        var g: Tensor? = Tensor(zeros: p.shape)
        #expect(loss.evaluate(p, p, gradient: &g) == [0, 0])
        #expect(g!.scalars.allSatisfy { $0 == 0 })
    }

    @Test func sameBitsWithAnyWorkerCount() throws {
        try BLAS.load()
        let weights = try Self.fixtureWeights.get()
        let (p, t) = Self.images(seed: 4, n: 3, h: 48, w: 40)
        var results: [([Float], Tensor)] = []
        for threads in [1, 2, 3] {
            let loss = LPIPSLoss(weights: weights, threads: threads)
            var g: Tensor? = Tensor(zeros: p.shape)
            results.append((loss.evaluate(p, t, gradient: &g), g!))
        }
        for r in results.dropFirst() {
            #expect(r.0 == results[0].0)
            #expect(sameBits(r.1, results[0].1))
        }
    }

    /// The cached target features never outlive the target's values: a target changed in place (its
    /// storage copied on write, since the cache holds it), an equal copy and another target.
    @Test func targetCacheFollowsTheTarget() throws {
        try BLAS.load()
        let loss = LPIPSLoss(weights: try Self.narrowWeights())
        let (p, t0) = Self.images(seed: 6, n: 2, h: 24, w: 24)
        var t = t0
        let first = loss.evaluate(p, t)
        #expect(loss.evaluate(p, t) == first)
        #expect(loss.evaluate(p, Tensor(shape: t.shape, values: t.scalars)) == first)
        t[flat: 100] += 0.5
        t.withUnsafeMutableBufferPointer { b in for i in 0..<200 { b[i] = -b[i] } }
        let fresh = LPIPSLoss(weights: try Self.narrowWeights())
        #expect(loss.evaluate(p, t) == fresh.evaluate(p, t))
        #expect(loss.evaluate(p, t) != first)
        // Another shape with the same storage.
        let reshaped = t.reshaped([1, 6, 24, 24]).reshaped([2, 3, 24, 24])
        #expect(loss.evaluate(p, reshaped) == fresh.evaluate(p, t))
        loss.clearTargetCache()
        #expect(loss.evaluate(p, t0) == first)
    }

    // MARK: - Kernels against plain loops

    struct ConvShape: Sendable, CustomStringConvertible {
        var i: Int, o: Int, n: Int, h: Int, w: Int
        var description: String { "I\(i) O\(o) N\(n) \(h)x\(w)" }
    }

    static let convShapes = [
        ConvShape(i: 3, o: 5, n: 2, h: 7, w: 9),  // row pieces
        ConvShape(i: 16, o: 40, n: 2, h: 3, w: 5),  // fewer columns than output channels: channel pieces
        ConvShape(i: 64, o: 48, n: 3, h: 20, w: 14),  // many row pieces, several workers
        ConvShape(i: 130, o: 200, n: 1, h: 9, w: 11),  // channel pieces, several workers
        ConvShape(i: 1, o: 1, n: 1, h: 1, w: 1),
    ]

    @Test(arguments: convShapes)
    func convolutionMatchesPlainLoops(shape s: ConvShape) throws {
        try BLAS.load()
        var rng = TestRandom(seed: 5)
        let x = rng.tensor([s.i, s.n, s.h, s.w]), weight = rng.tensor([s.o, s.i, 3, 3]), bias = rng.tensor([s.o])
        let xd = x.scalars.map(Double.init), wd = weight.scalars.map(Double.init)
        for relu in [false, true] {
            let reference = PlainConv3x3.reference(
                xd, inChannels: s.i, batch: s.n, height: s.h, width: s.w, weight: wd, outChannels: s.o,
                bias: bias.scalars.map(Double.init), relu: relu)
            var outputs: [[Float]] = []
            for threads in [1, 2, 3] {
                let conv = PlainConv3x3(inChannels: s.i, outChannels: s.o, batch: s.n, height: s.h, width: s.w, threads: threads)
                var y = [Float](repeating: .nan, count: s.o * s.n * s.h * s.w + 5)
                var scratch = [Float](repeating: .nan, count: conv.scratchCount)
                x.withUnsafeBufferPointer { xb in
                    weight.withUnsafeBufferPointer { wb in
                        bias.withUnsafeBufferPointer { bb in
                            conv.forward(
                                xb.baseAddress!, weight: wb.baseAddress!, bias: bb.baseAddress!, relu: relu, into: &y, scratch: &scratch)
                        }
                    }
                }
                #expect(y.suffix(5).allSatisfy { $0.isNaN }, "\(s): wrote past the output")
                outputs.append(Array(y.prefix(reference.count)))
            }
            var worst = 0.0
            for (a, b) in zip(outputs[0], reference) { worst = max(worst, abs(Double(a) - b)) }
            print("lpips conv \(s) relu \(relu): max|diff| \(worst) of \(reference.map(abs).max()!)")
            // Sums of 9 I products of N(0, 1) values in float32: measured <= 5.3e-7 of the largest output
            // (I = 130, 200 channels). 5e-6 = 10x.
            #expect(worst <= 5e-6 * max(1, reference.map(abs).max()!), "\(s) relu \(relu): max|diff| \(worst)")
            #expect(outputs.dropFirst().allSatisfy { $0 == outputs[0] }, "\(s): bits depend on the worker count")
        }
    }

    /// The input gradient is the same kernel with flipped, transposed weights: <conv(x), g> = <x, conv^T(g)>.
    @Test(arguments: convShapes)
    func flippedConvolutionIsTheAdjoint(shape s: ConvShape) throws {
        try BLAS.load()
        var rng = TestRandom(seed: 8)
        let x = rng.tensor([s.i, s.n, s.h, s.w]), weight = rng.tensor([s.o, s.i, 3, 3]), g = rng.tensor([s.o, s.n, s.h, s.w])
        let forward = PlainConv3x3.reference(
            x.scalars.map(Double.init), inChannels: s.i, batch: s.n, height: s.h, width: s.w, weight: weight.scalars.map(Double.init),
            outChannels: s.o, bias: nil, relu: false)
        var flipped = [Float](repeating: 0, count: s.i * s.o * 9)
        weight.withUnsafeBufferPointer { flippedTransposedConv3x3Weight($0.baseAddress!, outChannels: s.o, inChannels: s.i, into: &flipped) }
        let back = PlainConv3x3(inChannels: s.o, outChannels: s.i, batch: s.n, height: s.h, width: s.w, threads: 2)
        var gx = [Float](repeating: .nan, count: s.i * s.n * s.h * s.w)
        var scratch = [Float](repeating: .nan, count: back.scratchCount)
        g.withUnsafeBufferPointer { back.forward($0.baseAddress!, weight: flipped, bias: nil, relu: false, into: &gx, scratch: &scratch) }
        let lhs = zip(forward, g.scalars).reduce(0.0) { $0 + $1.0 * Double($1.1) }
        let rhs = zip(x.scalars, gx).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        // Float32 gx against the float64 forward: measured <= 9e-9 of the sum of |terms|. 1e-7 = 11x; a
        // wrong flip or transpose is O(1).
        let scale = zip(x.scalars, gx).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
        print("lpips conv adjoint \(s): \(abs(lhs - rhs) / max(1, scale)) of the sum of |terms|")
        #expect(abs(lhs - rhs) <= 1e-7 * max(1, scale), "\(s): <conv x, g> \(lhs), <x, conv^T g> \(rhs)")
    }

    @Test(arguments: [(5, 7), (4, 4), (1, 3), (6, 9)])
    func maxPoolMatchesPlainLoops(h: Int, w: Int) {
        var rng = TestRandom(seed: UInt64(h * 10 + w))
        let planes = 3
        var x = rng.tensor([planes, h, w]).scalars
        // A plateau: ties go to the first of the window, row by row, as torch routes them.
        for i in 0..<min(4, x.count) { x[i] = 0.25 }
        if h >= 2 && w >= 2 { x[w] = 0.25; x[w + 1] = 0.25 }
        let (oh, ow) = (h / 2, w / 2)
        let gy = rng.tensor([planes, oh, ow]).scalars
        var y = [Float](repeating: .nan, count: planes * oh * ow)
        var gx = [Float](repeating: .nan, count: planes * h * w)
        maxPool2x2Forward(x, height: h, width: w, planes: 0..<planes, into: &y)
        maxPool2x2Backward(x, height: h, width: w, planes: 0..<planes, gradient: gy, into: &gx)
        var expectedY = [Float](repeating: 0, count: y.count), expectedGx = [Float](repeating: 0, count: gx.count)
        for p in 0..<planes {
            for i in 0..<oh {
                for j in 0..<ow {
                    var best = -Float.infinity
                    var at = 0
                    for dy in 0..<2 {
                        for dx in 0..<2 {
                            let k = (p * h + 2 * i + dy) * w + 2 * j + dx
                            if x[k] > best { best = x[k]; at = k }
                        }
                    }
                    expectedY[(p * oh + i) * ow + j] = best
                    expectedGx[at] += gy[(p * oh + i) * ow + j]
                }
            }
        }
        #expect(y == expectedY)
        #expect(gx == expectedGx)
    }

    // MARK: - Speed

    /// One forward + backward (the target cached, as in an optimiser's steady state, and once
    /// without the cache), printed with the convolutions' rate and OpenBLAS's on one large product;
    /// `LINSTORY_LPIPS_BENCH=1 swift test -c release --filter LPIPSTests/timing`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LINSTORY_LPIPS_BENCH"] != nil), .serialized, arguments: [[8, 64], [1, 256]])
    func timing(shape: [Int]) throws {
        try BLAS.load()
        let weights = try Self.fixtureWeights.get()
        let loss = LPIPSLoss(weights: weights)
        let (n, side) = (shape[0], shape[1])
        let (p, t) = Self.images(seed: 1, n: n, h: side, w: side)
        var g: Tensor? = Tensor(zeros: p.shape)
        let clock = ContinuousClock()
        let cold = clock.measure { _ = loss.evaluate(p, t, gradient: &g) }
        var times: [Duration] = []
        for _ in 0..<3 { times.append(clock.measure { _ = loss.evaluate(p, t, gradient: &g) }) }
        let forward = clock.measure { _ = loss.evaluate(p, t) }
        // 2 I O 9 N H W per convolution, forward and input gradient alike.
        var flops = 0.0, grid = side
        for (j, conv) in weights.convolutions.enumerated() {
            if LPIPSWeights.pooledBefore.contains(j) { grid /= 2 }
            flops += 2 * Double(conv.inChannels * conv.outChannels * 9 * n * grid * grid)
        }
        let best = times.min()!
        let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) * 1e-18
        let size = 1024
        let a = Tensor(shape: [size, size], repeating: 0.5)
        var c = Tensor(zeros: [size, size])
        BLAS.threads = Parallel.threads
        let sgemm = a.withUnsafeBufferPointer { ap in
            c.withUnsafeMutableBufferPointer { cp in
                (0..<3).map { _ in
                    clock.measure {
                        BLAS.sgemm(m: size, n: size, k: size, a: ap.baseAddress!, lda: size, b: ap.baseAddress!, ldb: size, c: cp.baseAddress!, ldc: size)
                    }
                }.min()!
            }
        }
        BLAS.threads = 1
        let sgemmSeconds = Double(sgemm.components.attoseconds) * 1e-18 + Double(sgemm.components.seconds)
        print(
            "lpips timing N\(n) \(side)x\(side), \(Parallel.threads) threads: forward + backward \(best) "
                + "(\(String(format: "%.0f", 2 * flops / seconds / 1e9)) GFLOP/s of convolutions; first call, target too: \(cold)), "
                + "forward only \(forward); OpenBLAS sgemm 1024: \(String(format: "%.0f", 2e-9 * pow(Double(size), 3) / sgemmSeconds)) GFLOP/s")
    }
}
