import Engine
import Foundation
import Testing
import TestSupport

/// Ground truth with cuts: a clip rendered by the bundled model along three known straight W+
/// paths, one per shot. Scene detection must find the two cuts on the rendered frames, and the
/// scene method, given those scenes, must bring every frame back.
@Suite("Piecewise-linear W+ paths with cuts")
struct PiecewisePathTests {
    static let shotLength = 5
    static let shots = 3

    @Test func detectionFindsTheCutsAndSceneRecoversTheFrames() throws {
        let (g, stats) = try InversionRecoveryTests.bundled()
        let paths = (0..<Self.shots).map { InversionRecoveryTests.knownPath(g, frames: Self.shotLength, seed: 101 + UInt64($0)) }
        let targets = g.synthesize(ws: Tensor.concatenate(paths))  // [15, 3, 64, 64]
        let count = targets.shape[0]

        var options = SceneDetector.Options()
        options.minSceneLength = .frames(3)
        var detector = SceneDetector(fps: 25, options: options)
        for i in 0..<count {
            _ = detector.feed(RGBImage(tensor: targets.slice(i..<(i + 1)).reshaped([3, 64, 64])))
        }
        _ = detector.finish()
        let truth = (1..<Self.shots).map { $0 * Self.shotLength }
        #expect(detector.cuts.map(\.frame) == truth, "cuts \(detector.cuts.map(\.frame)), expected \(truth)")
        #expect(detector.cuts.allSatisfy { $0.kind == .cut })

        let scenes = SceneList(cuts: detector.cuts, frames: count)
        let result = try ClipInversion(method: .scene, budget: 160, settings: InversionRecoveryTests.settings).run(
            generator: g, statistics: stats, loss: try ImageLosses.named("default"), targets: targets, scenes: scenes)
        let recon = g.synthesize(ws: Tensor.concatenate(result.frames.map { $0.ws.reshaped([1] + $0.ws.shape) }))
        let psnr = ImageMetrics.psnr(recon, targets)
        print("piecewise paths: scene recovery PSNR \(psnr.map { String(format: "%.1f", $0) }) dB, \(result.evaluations) evaluations, \(String(format: "%.1f", result.seconds)) s")
        // 30 dB = RMS 0.063 in [-1, 1], ~8 levels of 255: the frame's own line was found (a frame of the
        // wrong shot scores far lower), at 160 evaluations a frame (fewer than InversionRecoveryTests' 35 dB
        // runs get); it bounds an optimiser's outcome, not float rounding.
        #expect(psnr.allSatisfy { $0 >= 30 }, "\(psnr)")
        // Each shot kept one line: no splits were needed where the truth is a line.
        #expect(result.segments.allSatisfy { $0.count == 1 }, "\(result.notes)")
    }
}
