import Engine
import Foundation
import Testing
import TestSupport

/// W+ with the fine layers shared per scene: whatever the method optimises, the frames of one
/// scene end with the same fine rows, and the coarse rows still move frame by frame.
@Suite("W+ with shared fine layers")
struct SharedFineLayersTests {
    static func check(_ frames: [FrameInversion], shared: Range<Int>, wDim: Int) {
        let first = frames[0].ws.scalars
        for f in frames.dropFirst() {
            let w = f.ws.scalars
            #expect(Array(w[(shared.lowerBound * wDim)...]) == Array(first[(shared.lowerBound * wDim)...]), "fine rows differ")
            // The coarse rows must move by an optimiser's step, not by rounding: frames see different
            // targets, and Adam moves every coordinate by about the learning rate on its first steps
            // (0.01-0.1 here), so frames differ by ~1e-2 rms; float rounding of w (|w| ~ 1) is ~1e-7.
            // 1e-3 rms sits four orders above rounding and an order below a real step.
            let coarse = shared.lowerBound * wDim
            var sumSquares = 0.0
            for i in 0..<coarse {
                let d = Double(w[i]) - Double(first[i])
                sumSquares += d * d
            }
            let rms = (sumSquares / Double(coarse)).squareRoot()
            print("shared fine layers: coarse rows moved by \(rms) rms")
            #expect(rms > 1e-3, "coarse rows moved by only \(rms) rms")
        }
    }

    @Test(arguments: [InversionMethod.sequential, .scene])
    func framesOfASceneShareTheirFineRows(method: InversionMethod) throws {
        let (g, stats) = try InversionRecoveryTests.bundled()
        let targets = g.synthesize(ws: InversionRecoveryTests.knownPath(g, frames: 3, seed: 5))
        var settings = InversionRecoveryTests.settings
        settings.space = .wPlusSharedFine
        let shared = try #require(settings.space.sharedRows(numWs: g.config.numWs))
        #expect(shared == 7..<10, "the 64 px block's three rows")
        var scenes = SceneList(cuts: [], frames: 3)
        scenes.scenes[0].clean = 0..<3
        let r = try ClipInversion(method: method, budget: 8, settings: settings).run(
            generator: g, statistics: stats, loss: try ImageLosses.named("default"), targets: targets, scenes: scenes)
        Self.check(r.frames, shared: shared, wDim: g.config.wDim)
    }

    @Test func smallModelsShareTheirLastBlock() {
        #expect(LatentSpace.wPlusSharedFine.sharedRows(numWs: 8) == 5..<8)   // 32 px
        #expect(LatentSpace.wPlusSharedFine.sharedRows(numWs: 14) == 7..<14)  // 256 px
        #expect(LatentSpace.wPlus.sharedRows(numWs: 10) == nil)
    }
}
