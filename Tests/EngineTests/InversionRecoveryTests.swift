import Engine
import Foundation
import Testing
import TestSupport

/// Ground truth you can trust: frames rendered from known latents (the model's const noise, noise
/// optimisation off) must come back at 35 dB or better, whatever the method.
@Suite("Inversion recovers known latents")
struct InversionRecoveryTests {
    static func bundled() throws -> (Generator, WStatistics) {
        let g = try GeneratorCheckpoint.load(path: Fixtures.repoRoot.appendingPathComponent("assets/bbb64.safetensors").path).generator
        return (g, WStatistics.compute(mapping: g.mapping, samples: 2000, seed: 1))
    }

    /// Frames along a short straight W+ line (a fifth of the way between two mapped z seeds, slightly
    /// perturbed per layer): consecutive frames differ as a shot's frames do.
    static func knownPath(_ g: Generator, frames: Int, seed: UInt64) -> Tensor {
        var rng = GaussianNoise(seed: seed)
        let z = Tensor(shape: [2, g.config.zDim]) { p in rng.fill(p.baseAddress!, count: p.count) }
        var ends = g.mapping(z, truncationPsi: 0.6)
        ends.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] += 0.05 * rng.next() } }
        let a = ends.slice(0..<1)
        let b = Tensor(shape: a.shape) { p in
            a.withUnsafeBufferPointer { x in ends.slice(1..<2).withUnsafeBufferPointer { y in for k in 0..<p.count { p[k] = x[k] + 0.2 * (y[k] - x[k]) } } }
        }
        return Tensor.concatenate((0..<frames).map { i in
            let t = frames > 1 ? Float(i) / Float(frames - 1) : 0
            return Tensor(shape: a.shape) { p in
                a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in for k in 0..<p.count { p[k] = x[k] + t * (y[k] - x[k]) } } }
            }
        })
    }

    static var settings: InversionSettings {
        var s = InversionSettings()
        s.optimizeNoise = false
        s.space = .wPlus
        return s
    }

    @Test(arguments: [InversionMethod.naive, .sequential, .scene])
    func methodRecoversFramesOfAKnownPath(method: InversionMethod) throws {
        let (g, stats) = try Self.bundled()
        let frames = 3
        let targets = g.synthesize(ws: Self.knownPath(g, frames: frames, seed: 7))
        var scenes = SceneList(cuts: [], frames: frames)
        scenes.scenes[0].clean = 0..<frames
        let budget = [InversionMethod.naive: 300, .sequential: 300, .scene: 500][method]!
        let result = try ClipInversion(method: method, budget: budget, settings: Self.settings).run(
            generator: g, statistics: stats, loss: try ImageLosses.named("default"), targets: targets, scenes: scenes)
        let recon = g.synthesize(ws: Tensor.concatenate(result.frames.map { $0.ws.reshaped([1] + $0.ws.shape) }))
        let psnr = ImageMetrics.psnr(recon, targets)
        print("\(method.rawValue) recovery PSNR \(psnr.map { String(format: "%.1f", $0) }) dB, \(result.evaluations) evaluations, \(String(format: "%.1f", result.seconds)) s")
        // What 35 dB proves: an RMS error of 2 / 10^(35/20) = 0.036 in [-1, 1], ~4.5 levels of 255, i.e.
        // the frame came back (w_avg's image or a neighbouring shot's frame is ~15-20 dB away). It is no
        // float-rounding bound: a 300-step Adam run amplifies summation-order differences, so it sits
        // ~2-7 dB under the measured values, not at them.
        if method == .sequential {
            // Its first frame gets the full schedule; warm frames, at a tenth of the steps and pulled
            // towards their predecessor by the latent-distance loss, trail the moving target by a
            // little (measured: 42.0, 35.8, 36.5 dB). Held to 35 dB on the first, 33 on the rest.
            #expect(psnr[0] >= 35 && psnr.allSatisfy { $0 >= 33 }, "\(psnr)")
        } else {
            #expect(psnr.allSatisfy { $0 >= 35 }, "\(psnr)")
        }
        #expect(result.evaluations <= budget * frames, "over budget: \(result.evaluations)")
    }
}
