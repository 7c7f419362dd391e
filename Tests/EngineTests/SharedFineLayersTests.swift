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
            #expect(Array(w[..<(shared.lowerBound * wDim)]) != Array(first[..<(shared.lowerBound * wDim)]), "coarse rows did not move")
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
