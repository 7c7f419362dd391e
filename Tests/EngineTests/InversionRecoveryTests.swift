import Engine
import Foundation
import Testing
import TestSupport

/// Ground truth you can trust: frames rendered from known latents must come back.
@Suite("Inversion recovers known latents")
struct InversionRecoveryTests {
    static func bundled() throws -> (Generator, WStatistics) {
        let g = try GeneratorCheckpoint.load(path: Fixtures.repoRoot.appendingPathComponent("assets/bbb64.safetensors").path).generator
        return (g, WStatistics.compute(mapping: g.mapping, samples: 2000, seed: 1))
    }

    /// Known W+ latents: mapped z seeds with a small per-layer perturbation.
    static func knownLatents(_ g: Generator, count: Int, seed: UInt64) -> Tensor {
        var rng = GaussianNoise(seed: seed)
        let z = Tensor(shape: [count, g.config.zDim]) { p in rng.fill(p.baseAddress!, count: p.count) }
        var ws = g.mapping(z, truncationPsi: 0.7)
        ws.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] += 0.05 * rng.next() } }
        return ws
    }

    @Test func naiveRecoversAFrameFromKnownWPlus() throws {
        let (g, stats) = try Self.bundled()
        let ws = Self.knownLatents(g, count: 2, seed: 7)
        let targets = g.synthesize(ws: ws)
        var settings = InversionSettings()
        settings.optimizeNoise = false
        settings.space = .wPlus
        let start = Date()
        let frames = try NaiveProjector(settings: settings, steps: 300).run(
            generator: g, statistics: stats, loss: try ImageLosses.named("default"), targets: targets)
        let recon = g.synthesize(ws: Tensor.concatenate(frames.map { $0.ws.reshaped([1] + $0.ws.shape) }))
        let psnr = ImageMetrics.psnr(recon, targets)
        print("naive recovery PSNR \(psnr) dB in \(Date().timeIntervalSince(start)) s; loss \(frames.map(\.finalLoss))")
        #expect(psnr.allSatisfy { $0 >= 35 })
    }
}
