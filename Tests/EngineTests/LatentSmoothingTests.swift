import Engine
import Foundation
import Testing
import TestSupport

/// `smooth`'s filter against a float64 reference: the 5-tap kernel [0.25, 0.75, 1, 0.75, 0.25] / 3
/// centred on each frame, renormalised over the taps inside the frame's scene, never reaching across
/// a cut; frames in no scene keep their latents bit for bit.
@Suite("LatentSmoothing: the 5-tap filter within scenes")
struct LatentSmoothingTests {
    static let taps = [0.25, 0.75, 1, 0.75, 0.25].map { $0 / 3 }

    static func reference(_ ws: [[Double]], scenes: [Range<Int>]) -> [[Double]] {
        var out = ws
        for scene in scenes {
            for t in scene {
                var acc = [Double](repeating: 0, count: ws[t].count)
                var weight = 0.0
                for k in -2...2 where scene.contains(t + k) {
                    let c = taps[k + 2]
                    weight += c
                    for i in acc.indices { acc[i] += c * ws[t + k][i] }
                }
                out[t] = acc.map { $0 / weight }
            }
        }
        return out
    }

    /// Latents [num_ws 3, w_dim 4] per frame; each scene lives at its own offset (1000 apart), so
    /// a tap that reached across a cut would move a frame by hundreds.
    static func latents(frames: Int, sceneOf: (Int) -> Int) -> [Tensor] {
        var rng = TestRandom(seed: 11)
        return (0..<frames).map { t in rng.tensor([3, 4], offset: 1000 * Float(sceneOf(t))) }
    }

    @Test("The kernel is [0.25, 0.75, 1, 0.75, 0.25] / 3 and sums to 1")
    func kernel() {
        #expect(LatentSmoothing.kernel.count == 5)
        // Float(c) / 3 is correctly rounded: <= 2^-25 = 3e-8 off for taps < 1/2; their float32 sum adds
        // <= 4 roundings of values <= 1: <= 2.4e-7 more.
        for (a, b) in zip(LatentSmoothing.kernel, Self.taps) { #expect(abs(Double(a) - b) < 1e-7) }
        #expect(abs(LatentSmoothing.kernel.reduce(0, +) - 1) < 1e-6)
    }

    @Test("Scenes of 1, 2, 3 and 7 frames, a frame between scenes and frames after the last")
    func withinScenes() {
        // Frames: [0] | [1, 2] | [3, 4, 5] | 6 (no scene) | [7 ..< 14] | 14, 15 (no scene).
        let scenes = [0..<1, 1..<3, 3..<6, 7..<14]
        let sceneOf = { (t: Int) in scenes.firstIndex { $0.contains(t) } ?? (10 + t) }
        let ws = Self.latents(frames: 16, sceneOf: sceneOf)
        let got = LatentSmoothing.smooth(ws, scenes: scenes)
        let want = Self.reference(ws.map(\.doubles), scenes: scenes)
        #expect(got.count == 16)
        for t in 0..<16 {
            #expect(got[t].shape == [3, 4])
            let worst = zip(got[t].doubles, want[t]).map { abs($0 - $1) }.max()!
            // Scene 3 sits at 3000 (+ N(0, 1)): float32 ulp 2.4e-4 there. Per output 5 products, 4 sums
            // and a division each round by <= 2^-24 of a partial sum (<= 3,100), and the renormalising
            // weight's float32 sum moves the 3000 by 3000 * (<= 3 * 2^-24): <= ~1.4e-3 in all, measured
            // 2.9e-4 (deterministic, no BLAS). 2e-3; a tap across a cut moves a frame by hundreds.
            #expect(worst < 2e-3, "frame \(t): off by \(worst)")
        }
        for t in [6, 14, 15] { #expect(sameBits(got[t], ws[t]), "frame \(t) is in no scene and must not change") }
        // A one-frame scene is its own average.
        // (c w) / c: two float32 roundings of |w| < 5, <= 6e-7 (measured 1.2e-7); 1e-4 is loose but
        // missing the renormalisation would give w / 3, off by 0.67 |w|.
        #expect(zip(got[0].doubles, ws[0].doubles).allSatisfy { abs($0 - $1) < 1e-4 })
        // The filter really averages: a middle frame of the long scene moved.
        #expect(zip(got[10].doubles, ws[10].doubles).map { abs($0 - $1) }.max()! > 0.1)
    }

    @Test("A line through latent space stays on it away from the scene's ends")
    func linearPathInterior() {
        // Symmetric kernel, weights summing to 1: a linear ramp is unchanged where all five taps exist.
        let ws = (0..<9).map { t in Tensor(shape: [1, 2], values: [Float(t), 5 - 2 * Float(t)]) }
        let got = LatentSmoothing.smooth(ws, scenes: [0..<9])
        // |values| <= 11: ~10 float32 roundings of partial sums <= 11 and the weight: <= 7e-6 (measured 4.8e-7).
        for t in 2..<7 { #expect(zip(got[t].scalars, ws[t].scalars).allSatisfy { abs($0 - $1) < 1e-5 }, "frame \(t): \(got[t].scalars)") }
        // At the first frame only taps 1, 0.75, 0.25 exist: (0 * 1 + 1 * 0.75 + 2 * 0.25) / 2 = 0.625.
        #expect(abs(got[0].scalars[0] - 0.625) < 1e-6, "\(got[0].scalars)")  // a few roundings of values < 1: ~2e-7
    }

    @Test("The FrameInversion overload filters latents and keeps noise and histories")
    func frameOverload() {
        let ws = Self.latents(frames: 4, sceneOf: { _ in 0 })
        let noise = [Tensor(shape: [4, 4], repeating: 0.5)]
        let frames = ws.enumerated().map { i, w in FrameInversion(ws: w, noise: noise, lossHistory: [Float(i)], finalLoss: Float(i), evaluations: 7) }
        let got = LatentSmoothing.smooth(frames, scenes: [0..<4])
        let plain = LatentSmoothing.smooth(ws, scenes: [0..<4])
        for i in 0..<4 {
            #expect(sameBits(got[i].ws, plain[i]))
            #expect(got[i].noise.map { sameBits($0[0], noise[0]) } == true)
            #expect(got[i].lossHistory == [Float(i)] && got[i].evaluations == 7)
        }
    }
}
