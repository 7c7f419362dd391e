import Engine
import Foundation
import Testing
import TestSupport

/// `--init`: latents a user already has (NVIDIA's projected_w.npz, an earlier session's export) are
/// read for a session's frames, and every method starts from them instead of w_avg.
@Suite("Starting from given latents (--init)")
struct InitialLatentsTests {
    static let (numWs, wDim) = (8, 64)

    static func ws(_ rows: Int, seed: UInt64) -> Tensor {
        var rng = TestRandom(seed: seed)
        return rng.tensor([rows, numWs, wDim])
    }

    static func row(_ t: Tensor, _ i: Int) -> [Float] { t.slice(i..<(i + 1)).scalars }

    @Test func oneRowStartsEveryFrame() throws {
        let folder = try TemporaryFolder()
        let w = Self.ws(1, seed: 1)
        // NVIDIA's projector writes w [1, num_ws, w_dim].
        try NpzArchive.write([("w", w)], to: folder.path + "/projected_w.npz")
        let initial = try InitialLatents(path: folder.path + "/projected_w.npz", numWs: Self.numWs, wDim: Self.wDim, count: 5, first: 10)
        for f in 10..<15 { #expect(initial.latents(clipFrame: f, space: .wPlus).scalars == w.scalars) }
        // W takes the mean of the layers.
        let mean = (0..<Self.wDim).map { j in (0..<Self.numWs).map { w.scalars[$0 * Self.wDim + j] }.reduce(0, +) / Float(Self.numWs) }
        let got = initial.latents(clipFrame: 12, space: .w).scalars
        for j in 0..<Self.wDim { #expect(abs(got[j] - mean[j]) < 1e-6) }
    }

    @Test func oneRowPerFrameInOrder() throws {
        let folder = try TemporaryFolder()
        let w = Self.ws(4, seed: 2)
        try NpyArray.write(w, to: folder.path + "/w.npy")
        let initial = try InitialLatents(path: folder.path + "/w.npy", numWs: Self.numWs, wDim: Self.wDim, count: 4, first: 100)
        for i in 0..<4 { #expect(initial.latents(clipFrame: 100 + i, space: .wPlus).scalars == Self.row(w, i)) }
    }

    /// An export lists the window frames its rows belong to under `frames`; they need not be in order.
    @Test func exportedFramesMapByTheirIndices() throws {
        let folder = try TemporaryFolder()
        let w = Self.ws(3, seed: 3)
        try NpzArchive.write([("w", w), ("frames", Tensor(shape: [3], values: [2, 0, 1]))], to: folder.path + "/scene.npz")
        let initial = try InitialLatents(path: folder.path + "/scene.npz", numWs: Self.numWs, wDim: Self.wDim, count: 3)
        #expect(initial.latents(clipFrame: 0, space: .wPlus).scalars == Self.row(w, 1))
        #expect(initial.latents(clipFrame: 1, space: .wPlus).scalars == Self.row(w, 2))
        #expect(initial.latents(clipFrame: 2, space: .wPlus).scalars == Self.row(w, 0))
    }

    @Test func filesThatDoNotFitAreRefusedNamingTheFile() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/w.npz"
        func refusal(count: Int) -> String? {
            do {
                _ = try InitialLatents(path: path, numWs: Self.numWs, wDim: Self.wDim, count: count)
                return nil
            } catch let e as LinstoryError {
                return e.description
            } catch {
                return "\(error)"
            }
        }
        try NpzArchive.write([("w", Self.ws(3, seed: 4))], to: path)
        let wrongCount = try #require(refusal(count: 5))
        #expect(wrongCount.contains(path) && wrongCount.contains("holds 3 latents for a session of 5 frames"))
        try NpzArchive.write([("w", Self.ws(2, seed: 4)), ("frames", Tensor(shape: [2], values: [0, 1]))], to: path)
        let missing = try #require(refusal(count: 4))
        #expect(missing.contains(path) && missing.contains("no latents for 2 of the session's 4 frames"))
        try NpzArchive.write([("w", Tensor(shape: [2, 7, 64], values: Array(repeating: 0, count: 2 * 7 * 64)))], to: path)
        let shape = try #require(refusal(count: 2))
        #expect(shape.contains(path) && shape.contains("shape"))
        try Data("not a zip".utf8).write(to: URL(fileURLWithPath: path))
        #expect(try #require(refusal(count: 2)).contains(path))
    }

    /// The scene method's path starts on the least-squares line through its frames' latents: points on
    /// a line give back that line.
    @Test func aSceneStartsOnTheLineThroughItsFrames() throws {
        let folder = try TemporaryFolder()
        let a = Self.ws(1, seed: 5), b = Self.ws(1, seed: 6)
        let n = 5
        let rows = (0..<n).map { i in LatentLine(start: a.reshaped([Self.numWs, Self.wDim]), end: b.reshaped([Self.numWs, Self.wDim])).latent(at: Float(i) / Float(n - 1)) }
        try NpzArchive.write([("w", Tensor.concatenate(rows.map { $0.reshaped([1, Self.numWs, Self.wDim]) }))], to: folder.path + "/line.npz")
        let initial = try InitialLatents(path: folder.path + "/line.npz", numWs: Self.numWs, wDim: Self.wDim, count: n)
        let line = initial.line(clipFrames: Array(0..<n), space: .wPlus)
        #expect(TensorComparison("start", ours: line.start, reference: a.reshaped([Self.numWs, Self.wDim])).maxAbsDiff < 1e-5)
        #expect(TensorComparison("end", ours: line.end, reference: b.reshaped([Self.numWs, Self.wDim])).maxAbsDiff < 1e-5)
    }

    /// Frames rendered from known latents on a line: every method started from those latents begins at (almost)
    /// zero loss, where the same run from w_avg starts far off.
    @Test(arguments: [InversionMethod.naive, .sequential, .scene])
    func everyMethodStartsFromTheGivenLatents(method: InversionMethod) throws {
        let g = try Fixtures.generator("tiny32")
        let statistics = WStatistics.compute(mapping: g.mapping, samples: 1000, seed: 1)
        var rng = TestRandom(seed: 7)
        let frames = 4
        // On a line, so that the scene method's least-squares start is exact too.
        let ends = g.mapping(rng.tensor([2, g.config.zDim]), truncationPsi: 0.7)
        let (numWs, wDim) = (g.config.numWs, g.config.wDim)
        let line = LatentLine(start: ends.slice(0..<1).reshaped([numWs, wDim]), end: ends.slice(1..<2).reshaped([numWs, wDim]))
        let ws = Tensor.concatenate((0..<frames).map { line.latent(at: Float($0) / Float(frames - 1)).reshaped([1, numWs, wDim]) })
        let targets = g.synthesize(ws: ws)
        let folder = try TemporaryFolder()
        try NpzArchive.write([("w", ws)], to: folder.path + "/truth.npz")
        var settings = InversionSettings()
        settings.optimizeNoise = false
        settings.batch = 2
        func run(_ initial: InitialLatents?) throws -> [FrameInversion] {
            var s = settings
            s.initial = initial
            var clip = ClipInversion(method: method, budget: 6, settings: s)
            clip.sequentialSteps = 3
            return try clip.run(
                generator: g, statistics: statistics, loss: L1Loss(), targets: targets, scenes: SceneList(cuts: [], frames: frames)
            ).frames
        }
        let given = try InitialLatents(path: folder.path + "/truth.npz", numWs: g.config.numWs, wDim: g.config.wDim, count: frames)
        let started = try run(given)
        let fresh = try run(nil)
        // Where the run ends is not compared: Adam at the projector's learning rate wanders off an exact
        // optimum of this random-weight generator by an amount that follows the BLAS kernels' rounding
        // (better than from w_avg with some, not with others). Where it starts is the point.
        // The first step renders the starting point (no w noise from a given start, no move at lr 0).
        let firstLoss = started[0].lossHistory[0]
        #expect(firstLoss < 1e-3 && fresh[0].lossHistory[0] > 0.5, "\(method): first step \(firstLoss) vs \(fresh[0].lossHistory[0])")
    }
}
