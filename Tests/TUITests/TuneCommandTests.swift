import Engine
import Foundation
import Testing
import TestSupport

/// `--tune` as a user runs it, on 12 frames of the bundled clip across its cut at 24 (two scenes):
/// `invert --tune` tunes each scene and reports the method with and without tuning; a rerun keeps
/// the tuned scenes; `export` writes each tuned scene as a generator that renders the scene's frames
/// as the session does; `interpolate` within a tuned scene uses its weights.
@Suite("invert --tune, export, interpolate")
final class TuneCommandTests {
    let scratch: TemporaryFolder
    init() throws { scratch = try TemporaryFolder("linstory-tune") }

    static let clip = Fixtures.repoRoot.appendingPathComponent("assets/bbb-cuts.mp4").path
    static let model = Fixtures.repoRoot.appendingPathComponent("assets/bbb64.safetensors").path

    @Test func tunedScenesAreMeasuredKeptExportedAndInterpolated() throws {
        let out = scratch.path + "/session"
        let invert = ["invert", Self.clip, "--model", Self.model, "--frames", "20:32", "--method", "scene", "--budget", "8", "--max-knots", "0",
                      "--tune", "--tune-steps", "30", "--out", out]
        let first = try CommandLineTests.run(invert)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("scene +tune"), "\(first.stdout)")
        #expect(first.stdout.contains("tuned 2 scenes (0 kept from before)"), "\(first.stdout)")
        let session = try SessionFolder.read(folder: out)
        #expect(session.tunedScenes(method: .scene).map(\.frames) == [20...23, 24...31])
        let decoder = JSONDecoder()
        let plain = try decoder.decode(ClipMetrics.self, from: try Data(contentsOf: URL(fileURLWithPath: out + "/metrics/scene.json")))
        let tuned = try decoder.decode(ClipMetrics.self, from: try Data(contentsOf: URL(fileURLWithPath: session.tunedMetricsPath(method: .scene))))
        #expect(tuned.clip.psnr > plain.clip.psnr + 0.3, "tuning gained \(tuned.clip.psnr - plain.clip.psnr) dB")
        #expect(tuned.clip.heldOutPSNR != nil)
        // The same latents: the latent figures do not move.
        #expect(tuned.clip.s1 == plain.clip.s1)

        let again = try CommandLineTests.run(invert + ["--resume"])
        #expect(again.status == 0 && again.stdout.contains("tuned 2 scenes (2 kept from before)"), "\(again.stdout)\(again.stderr)")

        let export = try CommandLineTests.run(["export", out])
        #expect(export.status == 0 && export.stdout.contains("scene-tuned-24-31.safetensors"), "\(export.stdout)\(export.stderr)")
        // The exported generator is the model with scene 24-31's deltas: frame 26 renders as the session renders it.
        let base = try GeneratorCheckpoint.load(path: Self.model).generator
        let standalone = try GeneratorCheckpoint.load(path: out + "/export/scene-tuned-24-31.safetensors").generator
        let frame = try #require(session.readFrame(index: 6, method: .scene, noiseNames: base.synthesis.noiseLayerNames))
        let workspace = SynthesisWorkspace(network: base.synthesis, batch: 1)
        let generators = SceneGenerators(base: base, session: session, method: .scene)
        let sessionImage = try generators.generator(forFrame: 6).synthesis.render(frame, workspace: workspace)
        let standaloneMatches = standalone.synthesis.render(frame, workspace: workspace).scalars == sessionImage.scalars
        let modelDiffers = base.synthesis.render(frame, workspace: workspace).scalars != sessionImage.scalars
        #expect(standaloneMatches && modelDiffers, "the exported generator renders as the session: \(standaloneMatches); the session's render is tuned: \(modelDiffers)")
        #expect(generators.tunedRanges == [0..<4, 4..<12])

        let interpolate = try CommandLineTests.run(["interpolate", out, "--scene", "1", "--frames", "3", "--out", scratch.path + "/path"])
        #expect(interpolate.status == 0 && interpolate.stdout.contains("the scene's tuned generator"), "\(interpolate.stdout)\(interpolate.stderr)")
        let across = try CommandLineTests.run(["interpolate", out, "--from", "22", "--to", "26", "--frames", "3", "--out", scratch.path + "/across"])
        #expect(across.status == 0 && !across.stdout.contains("tuned"), "\(across.stdout)\(across.stderr)")
    }

    @Test func tuneIsRefusedForAShard() throws {
        let r = try CommandLineTests.run(["invert", Self.clip, "--model", Self.model, "--out", scratch.path + "/s", "--shard", "1/2", "--tune"])
        #expect(r.status != 0 && r.stderr.contains("--tune works on a whole session"), "\(r.stderr)")
    }
}
