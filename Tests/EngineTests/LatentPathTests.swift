import Engine
import Testing
import TestSupport

/// `LatentPath` against the plain formula in float64 on hand-made scenes: two fitted segments (as the
/// scene method saves them, each frame knowing its segment), a transition frame between scenes, and
/// per-frame results that carry no segments.
@Suite("LatentPath")
struct LatentPathTests {
    static let shape = [4, 3]  // [num_ws, w_dim]

    /// Frames 10...20 on two lines, 10...14 and 15...20, each frame computed the way SceneProjector
    /// computes it (LatentLine at t = (i - first) / (last - first)), with the segment's own noise.
    static func scene() -> (frames: [Int: FrameInversion], lines: [(ClosedRange<Int>, Tensor, Tensor, Tensor)]) {
        var rng = TestRandom(seed: 31)
        var frames: [Int: FrameInversion] = [:]
        var lines: [(ClosedRange<Int>, Tensor, Tensor, Tensor)] = []
        for range in [10...14, 15...20] {
            let a = Tensor(shape: shape, values: rng.normals(12)), b = Tensor(shape: shape, values: rng.normals(12))
            let noise = Tensor(shape: [2, 2], values: rng.normals(4))
            lines.append((range, a, b, noise))
            for i in range {
                let t = Float(i - range.lowerBound) / Float(range.upperBound - range.lowerBound)
                var f = FrameInversion(ws: LatentLine(start: a, end: b).latent(at: t), noise: [noise], lossHistory: [], finalLoss: 0, evaluations: 0)
                f.segment = range
                frames[i] = f
            }
        }
        return (frames, lines)
    }

    /// start + t (end - start) in float64 for every element.
    static func exact(_ a: Tensor, _ b: Tensor, _ t: Double) -> [Double] {
        (0..<a.count).map { Double(a[flat: $0]) + t * (Double(b[flat: $0]) - Double(a[flat: $0])) }
    }

    static func maxDiff(_ x: Tensor, _ y: [Double]) -> Double {
        (0..<x.count).map { abs(Double(x[flat: $0]) - y[$0]) }.max()!
    }

    @Test func aSceneFollowsItsSegmentsAndBridgesTheGap() throws {
        let (frames, lines) = Self.scene()
        var reads: [Int] = []
        let path = try #require(LatentPath(scene: 10...20) { reads.append($0); return frames[$0] })
        // Two frames a segment are all it reads.
        #expect(Set(reads) == [10, 14, 15, 20], "\(reads)")
        #expect(path.segments.map(\.frames) == [10...14, 15...20])
        #expect(path.firstFrame == 10 && path.lastFrame == 20)
        // Every whole frame gives back the saved latent: the same line (its ends are frames 10 and 14
        // where the fit had w_start and w_end), so a few float32 roundings of values |x| < 5 at most.
        for (i, f) in frames {
            let d = TensorComparison("frame \(i)", ours: path.latent(atFrame: Double(i)), reference: f.ws).maxAbsDiff
            #expect(d <= 2e-6, "frame \(i): \(d)")
        }
        // Inside a segment, a fractional frame is on its line; outside, the end segments extrapolate.
        for (x, k, t) in [(12.5, 0, 0.625), (17.25, 1, 0.45), (8.0, 0, -0.5), (22.5, 1, 1.5)] {
            let (_, a, b, noise) = lines[k]
            #expect(Self.maxDiff(path.latent(atFrame: x), Self.exact(a, b, t)) <= 4e-6, "x \(x)")
            #expect(path.inversion(atFrame: x).noise.map { sameBits($0[0], noise) } == true, "x \(x) renders with its segment's noise")
        }
        // Between the segments (14 < x < 15) the path runs straight from frame 14 to frame 15.
        let mid = path.latent(atFrame: 14.5)
        let f14 = frames[14]!.ws, f15 = frames[15]!.ws
        #expect(Self.maxDiff(mid, Self.exact(f14, f15, 0.5)) <= 2e-6)
        // t runs over the whole path: 0 at frame 10, 1 at frame 20, 0.45 at frame 14.5.
        #expect(sameBits(path.latent(at: 0.45), path.latent(atFrame: 14.5)))
        #expect(sameBits(path.latent(at: 0), path.latent(atFrame: 10)))
    }

    @Test func aRangeInsideSegmentsFollowsTheSameLines() throws {
        let (frames, lines) = Self.scene()
        let path = try #require(LatentPath(scene: 12...17) { frames[$0] })
        #expect(path.segments.map(\.frames) == [12...14, 15...17])
        // Frame 11 lies before the range: extrapolated along the first segment, it is still that line.
        let (_, a, b, _) = lines[0]
        #expect(Self.maxDiff(path.latent(atFrame: 11), Self.exact(a, b, 0.25)) <= 4e-6)
    }

    @Test func aTransitionFrameIsAPointThePathPassesThrough() throws {
        var (frames, _) = Self.scene()
        frames[14]!.segment = nil  // as a transition frame inverted on its own
        frames[13]!.segment = 10...13
        frames[10]!.segment = 10...13
        let path = try #require(LatentPath(scene: 10...20) { frames[$0] })
        #expect(path.segments.map(\.frames) == [10...13, 14...14, 15...20])
        #expect(sameBits(path.latent(atFrame: 14), frames[14]!.ws))
    }

    @Test func perFrameResultsMakeTheStraightLineBetweenTheEnds() throws {
        var rng = TestRandom(seed: 5)
        var frames: [Int: FrameInversion] = [:]
        for i in 0...6 {
            frames[i] = FrameInversion(ws: Tensor(shape: Self.shape, values: rng.normals(12)), noise: nil, lossHistory: [], finalLoss: 0, evaluations: 0)
        }
        var reads: [Int] = []
        let path = try #require(LatentPath(scene: 0...6) { reads.append($0); return frames[$0] })
        #expect(reads == [0, 6])
        #expect(path.segments.count == 1)
        #expect(Self.maxDiff(path.latent(at: 0.5), Self.exact(frames[0]!.ws, frames[6]!.ws, 0.5)) <= 2e-6)
        #expect(sameBits(path.latent(atFrame: 3), path.latent(at: 0.5)))
        // The same line as `from:to:`, and reversed ends give the same path.
        let line = LatentPath(from: 6, frames[6]!, to: 0, frames[0]!)
        #expect(line.firstFrame == 0 && line.lastFrame == 6)
        #expect(sameBits(line.latent(at: 0.3), path.latent(at: 0.3)))
    }

    @Test func aMissingFrameGivesNoPath() {
        let (frames, _) = Self.scene()
        #expect(LatentPath(scene: 10...20) { $0 == 15 ? nil : frames[$0] } == nil)
        #expect(LatentPath(scene: 10...21) { frames[$0] } == nil)
    }
}
