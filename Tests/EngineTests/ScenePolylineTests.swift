import Engine
import Foundation
import Testing
import TestSupport

/// The scene method's path: a polyline continuous at its knots, stored as the session's pieces, and
/// the rule that places a knot.
@Suite("Scene polylines and their knots")
struct ScenePolylineTests {
    static func vertex(_ value: Float, rows: Int = 2, wDim: Int = 3) -> Tensor {
        Tensor(shape: [rows, wDim], values: (0..<(rows * wDim)).map { value + Float($0) })
    }

    static let path = ScenePolyline(knots: [0, 4, 10], vertices: [vertex(0), vertex(8), vertex(2)], noise: nil)

    @Test func verticesSitAtTheKnotsAndPiecesAreStraight() {
        let p = Self.path
        #expect(p.latent(atFrame: 0).scalars == Self.vertex(0).scalars)
        #expect(p.latent(atFrame: 4).scalars == Self.vertex(8).scalars)
        #expect(p.latent(atFrame: 10).scalars == Self.vertex(2).scalars)
        // Frame 2 is halfway along the first piece, frame 7 halfway along the second.
        #expect(p.latent(atFrame: 2).scalars == Self.vertex(4).scalars)
        #expect(p.latent(atFrame: 7).scalars == Self.vertex(5).scalars)
        // Beyond the ends the end pieces extrapolate.
        #expect(p.latent(atFrame: -2).scalars == Self.vertex(-4).scalars)
        #expect(p.latent(atFrame: 12).scalars == Self.vertex(0).scalars)
    }

    @Test func aNewKnotLeavesThePathWhereItWas() {
        var p = Self.path
        let before = stride(from: 0.0, through: 10.0, by: 0.25).map { p.latent(atFrame: Float($0)).scalars }
        p.insertKnot(at: 7)
        #expect(p.knots == [0, 4, 7, 10])
        let after = stride(from: 0.0, through: 10.0, by: 0.25).map { p.latent(atFrame: Float($0)).scalars }
        for (a, b) in zip(before, after) {
            for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-5 * max(1, abs(x)), "\(a) vs \(b)") }
        }
    }

    /// What the session stores (each frame's latent and its piece's frames) rebuilds the polyline:
    /// `LatentPath`, which the scrubber, `interpolate` and export use, runs along the same bends, also
    /// between frames and across a knot.
    @Test func theStoredPiecesRebuildThePolyline() {
        let p = Self.path
        let segments = p.segments
        #expect(segments.map(\.range) == [0..<4, 4..<11])
        var frames: [Int: FrameInversion] = [:]
        for seg in segments {
            for i in seg.range {
                var f = FrameInversion(ws: p.latent(atFrame: Float(i)), noise: nil, lossHistory: [], finalLoss: 0, evaluations: 0)
                f.segment = (seg.range.lowerBound + 100)...(seg.range.upperBound - 1 + 100)
                frames[i + 100] = f
            }
        }
        let rebuilt = LatentPath(scene: 100...110) { frames[$0] }!
        #expect(rebuilt.segments.map(\.frames) == [100...103, 104...110])
        for x in stride(from: 0.0, through: 10.0, by: 0.25) {
            let want = p.latent(atFrame: Float(x)).scalars
            let got = rebuilt.latent(atFrame: 100 + x).scalars
            for (a, b) in zip(want, got) { #expect(abs(a - b) <= 1e-5 * max(1, abs(a)), "frame \(x): \(want) vs \(got)") }
        }
    }

    /// A bend shows as a window of frames that fit much better free than on the path; the knot goes
    /// to the window's frame that gained most, never closer to a knot than the minimum piece allows.
    @Test func aKnotGoesWhereFreeLatentsGainMost() {
        let projector = SceneProjector(settings: InversionSettings(), budget: 1)
        let straight = ScenePolyline(knots: [0, 23], vertices: [Self.vertex(0), Self.vertex(1)], noise: nil)
        var onPath = [Float](repeating: 0.10, count: 24)
        var free = [Float](repeating: 0.09, count: 24)
        // Nothing stands out: no knot.
        #expect(projector.chooseKnot(path: straight, pathLosses: onPath, freeLosses: free) == nil)
        // The ground-truth shot's bend (measured losses around frame 11).
        onPath[10] = 0.248; onPath[11] = 0.442; onPath[12] = 0.173
        free[10] = 0.127; free[11] = 0.184; free[12] = 0.110
        #expect(projector.chooseKnot(path: straight, pathLosses: onPath, freeLosses: free)?.frame == 11)
        // The same bend at frames 2-4: a knot there would leave a first piece shorter than minimumSegment.
        let late = Array(onPath[8...]) + Array(onPath[..<8]), lateFree = Array(free[8...]) + Array(free[..<8])
        #expect(projector.chooseKnot(path: straight, pathLosses: late, freeLosses: lateFree) == nil)
        // A frame that is merely hard (as bad free as on the path) is no bend.
        var hard = [Float](repeating: 0.10, count: 24)
        hard[11] = 0.5
        #expect(projector.chooseKnot(path: straight, pathLosses: hard, freeLosses: hard) == nil)
    }

    /// `--max-knots 0` keeps one straight line per scene, whatever the frames do.
    @Test func noKnotsWhenNoneAreAllowed() throws {
        let (g, stats) = try InversionRecoveryTests.bundled()
        let footage = GroundTruthFootage(generator: g, lengths: [12], segments: [2], seed: 4)
        var settings = InversionSettings()
        settings.maxKnots = 0
        let r = try SceneProjector(settings: settings, budget: 16).run(
            generator: g, statistics: stats, loss: try ImageLosses.named("default"), targets: footage.frames)
        #expect(r.path.knots == [0, 11] && r.splits.isEmpty)
        #expect(r.frames.allSatisfy { $0.segment == 0...11 })
    }
}
