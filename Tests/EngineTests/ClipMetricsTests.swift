import Engine
import Foundation
import Testing
import TestSupport

/// `ClipMetrics.measure` on a hand-made six-frame clip: scene A is frames 0-2, frame 3 is a
/// transition frame (in no scene), scene B is frames 4-5. Frame 3 is far off in every respect,
/// so a figure computed across a scene boundary would show it.
@Suite("ClipMetrics: per scene, never across a cut, scenes weighted equally")
struct ClipMetricsTests {
    static let scenes = [0..<3, 4..<6]
    static let wStd: Float = 0.5

    /// Reconstruction error per frame, per pixel (1 channel, 2x2).
    static let errors: [[Float]] = [
        [0, 0, 0, 0],
        [0.1, -0.1, 0.1, -0.1],
        [0.1, -0.1, 0.1, -0.1],
        [0.9, 0.9, -0.9, 0.9],  // the transition frame
        [0, 0, 0, 0],
        [0.2, 0.2, -0.2, -0.2],
    ]

    /// Targets x_t (a slow ramp), reconstructions x_t + error_t.
    static func images() -> (targets: Tensor, recon: Tensor) {
        var x: [Float] = []
        for t in 0..<6 {
            for i in 0..<4 { x.append(Float(t) * 0.05 - 0.2 + Float(i) * 0.02) }
        }
        let e: [Float] = Array(errors.joined())
        let y: [Float] = zip(x, e).map { $0 + $1 }
        return (Tensor(shape: [6, 1, 2, 2], values: x), Tensor(shape: [6, 1, 2, 2], values: y))
    }

    /// ws [num_ws 2, w_dim 2] per frame.
    static let ws: [Tensor] = ([
        [0, 0, 0, 0], [3, 0, 0, 4], [3, 0, 0, 4],  // steps 5, 0; second difference at frame 1: 5
        [100, -100, 100, 100],
        [1, 1, 1, 1], [1, 1, 1, 3],  // step 2
    ] as [[Float]]).map { Tensor(shape: [2, 2], values: $0) }

    /// Mean |(y_t - y_{t-1}) - (x_t - x_{t-1})| over pixels, in float64.
    static func referenceTDR(_ x: [Double], _ y: [Double], _ t: Int) -> Double {
        (0..<4).map { i in abs((y[t * 4 + i] - y[(t - 1) * 4 + i]) - (x[t * 4 + i] - x[(t - 1) * 4 + i])) }.reduce(0, +) / 4
    }

    @Test("TDR, S1, S2, PSNR, SSIM per scene and per clip; transitions apart")
    func handMadeClip() {
        let (targets, recon) = Self.images()
        let m = ClipMetrics.measure(targets: targets, recon: recon, ws: Self.ws, scenes: Self.scenes, wStd: Self.wStd, heldOut: [12, nil])
        let psnr = ImageMetrics.psnr(recon, targets)
        let ssim = ImageMetrics.ssim(recon, targets)
        #expect(m.perFramePSNR == psnr && m.perFrameSSIM == ssim)
        #expect(psnr[0] == 100 && psnr[4] == 100)
        // y = x + e is rounded to float32 (|y| < 0.25: <= 7.5e-9) and e = 0.1 is Float(0.1): each |d| is 0.1
        // within ~1e-7 relative, the MSE within 2e-7, the PSNR within ~1e-6 dB. 1e-4 dB is loose but a
        // wrong formula (range 1 not 2, no square) is off by >= 3 dB.
        #expect(abs(psnr[1] - 10 * log10(4 / 0.01)) < 1e-4 && abs(psnr[5] - 10 * log10(4 / 0.04)) < 1e-4, "\(psnr)")
        #expect(m.scenes.count == 2)

        // TDR: scene A pairs (0,1), (1,2): 0.1 and 0; scene B pair (4,5): 0.2. The pairs (2,3) and
        // (3,4) cross scene boundaries and must not count.
        let (x, y) = (targets.doubles, recon.doubles)
        let tdrA = (Self.referenceTDR(x, y, 1) + Self.referenceTDR(x, y, 2)) / 2
        let tdrB = Self.referenceTDR(x, y, 5)
        // The hand values against float64 sums of float32 pixels: the errors' float32 rounding, <= 1e-8 here.
        #expect(abs(tdrA - 0.05) < 1e-6 && abs(tdrB - 0.2) < 1e-6)
        // Ours and the reference: the same float64 differences of the same float32 pixels, summed in
        // another order: ~1e-17. Likewise every 1e-9 (or 1e-12) below: float64 means of a few values.
        #expect(abs(m.scenes[0].tdr! - tdrA) < 1e-9 && abs(m.scenes[1].tdr! - tdrB) < 1e-9, "\(m.scenes.map(\.tdr))")
        #expect(abs(m.clip.tdr! - 0.125) < 1e-6, "scenes weigh equally: (0.05 + 0.2) / 2, not the pair mean 0.1; got \(m.clip.tdr!)")

        // S1 = mean ||w_t - w_{t-1}|| / w_std: A (5 + 0) / 2 / 0.5 = 5, B 2 / 0.5 = 4; clip 4.5 (pair mean: 4.67).
        // Integer latents, norms sqrt(25) and sqrt(4), w_std 0.5: exact in float64; 1e-9 only for form.
        #expect(abs(m.scenes[0].s1! - 5) < 1e-9 && abs(m.scenes[1].s1! - 4) < 1e-9, "\(m.scenes.map(\.s1))")
        #expect(abs(m.clip.s1! - 4.5) < 1e-9)
        // S2 = mean ||w_{t+1} - 2 w_t + w_{t-1}|| / w_std: A has one middle frame, 5 / 0.5; B none.
        #expect(abs(m.scenes[0].s2! - 10) < 1e-9 && m.scenes[1].s2 == nil)
        #expect(abs(m.clip.s2! - 10) < 1e-9)

        // PSNR and SSIM: per scene means of its frames, clip the mean of the scenes.
        let psnrA = (psnr[0] + psnr[1] + psnr[2]) / 3, psnrB = (psnr[4] + psnr[5]) / 2
        #expect(abs(m.scenes[0].psnr - psnrA) < 1e-9 && abs(m.scenes[1].psnr - psnrB) < 1e-9)
        #expect(abs(m.clip.psnr - (psnrA + psnrB) / 2) < 1e-9)
        let frameMean = (psnr[0] + psnr[1] + psnr[2] + psnr[4] + psnr[5]) / 5
        #expect(abs(m.clip.psnr - frameMean) > 0.5, "the hand-made clip must tell the two weightings apart")
        let ssimA = (ssim[0] + ssim[1] + ssim[2]) / 3, ssimB = (ssim[4] + ssim[5]) / 2
        #expect(abs(m.clip.ssim - (ssimA + ssimB) / 2) < 1e-12)

        // Held-out PSNR per scene, the clip's the mean of those that exist.
        #expect(m.scenes[0].heldOutPSNR == 12 && m.scenes[1].heldOutPSNR == nil && m.clip.heldOutPSNR == 12)
        // The transition frame, apart.
        #expect(m.transitions?.psnr == psnr[3] && m.transitions?.ssim == ssim[3])
    }

    @Test("One-frame scenes have no TDR or S1; a clip of them has none either")
    func singleFrameScenes() {
        let (targets, recon) = Self.images()
        let m = ClipMetrics.measure(targets: targets, recon: recon, ws: Self.ws, scenes: (0..<6).map { $0..<($0 + 1) }, wStd: 1)
        #expect(m.scenes.count == 6 && m.scenes.allSatisfy { $0.tdr == nil && $0.s1 == nil && $0.s2 == nil })
        #expect(m.clip.tdr == nil && m.clip.s1 == nil && m.transitions == nil)
        // Every frame is its own scene: the clip PSNR is the plain mean of the frames' (100 dB caps included);
        // a mean of means of six float64 values against one mean: ~1e-14 dB apart.
        #expect(abs(m.clip.psnr - m.perFramePSNR.reduce(0, +) / 6) < 1e-9)
    }

    /// A perceptual distance (LPIPS in `compare`) is measured on every frame and reported per scene
    /// and per clip like PSNR, whatever loss made the reconstructions; without one there is none.
    @Test func aPerceptualDistanceIsReportedPerSceneAndClip() {
        var rng = TestRandom(seed: 31)
        let targets = rng.tensor([5, 3, 8, 8], scale: 0.5), recon = rng.tensor([5, 3, 8, 8], scale: 0.5)
        let ws = (0..<5).map { _ in rng.tensor([2, 4]) }
        let scenes = [0..<2, 2..<5]
        var with = ClipMetrics.Accumulator(scenes: scenes, wStd: 1, perceptual: L1Loss())
        var without = ClipMetrics.Accumulator(scenes: scenes, wStd: 1)
        for t in 0..<5 {
            with.add(target: targets.slice(t..<(t + 1)), recon: recon.slice(t..<(t + 1)), ws: ws[t])
            without.add(target: targets.slice(t..<(t + 1)), recon: recon.slice(t..<(t + 1)), ws: ws[t])
        }
        let m = with.finish(), plain = without.finish()
        let perFrame = (0..<5).map { Double(L1Loss().evaluate(recon.slice($0..<($0 + 1)), targets.slice($0..<($0 + 1)))[0]) }
        #expect(m.perFrameLPIPS == perFrame)
        let first = (perFrame[0] + perFrame[1]) / 2, second = (perFrame[2] + perFrame[3] + perFrame[4]) / 3
        #expect(abs(m.scenes[0].lpips! - first) < 1e-12 && abs(m.scenes[1].lpips! - second) < 1e-12)
        #expect(abs(m.clip.lpips! - (first + second) / 2) < 1e-12)
        #expect(plain.clip.lpips == nil && plain.perFrameLPIPS == nil)
        #expect(m.clip.psnr == plain.clip.psnr)
    }
}
