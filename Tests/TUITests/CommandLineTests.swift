import Engine
import Foundation
import Testing
import TestSupport

/// The `linstory` binary as a user runs it (built by `swift build --build-tests` beside the tests).
@Suite("linstory on the command line")
final class CommandLineTests {
    /// This test's scratch folder, removed when the test ends.
    let scratch: TemporaryFolder
    init() throws { scratch = try TemporaryFolder("linstory-cli") }

    static let binary = Fixtures.repoRoot.appendingPathComponent(".build/release/linstory").path

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the binary to completion. Its stdout and stderr go to files, not pipes: reading one pipe
    /// to its end while the child blocks on a full other one would deadlock.
    static func run(_ arguments: [String]) throws -> Result {
        let r = try ExternalProcess.run([binary] + arguments, check: false)
        return Result(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }

    @Test func infoDescribesTheBundledModel() throws {
        let r = try Self.run(["info", Fixtures.repoRoot.appendingPathComponent("assets/bbb64.safetensors").path])
        #expect(r.status == 0)
        for line in ["resolution:      64 x 64, 3 channels", "channels:        4: 128, 8: 128, 16: 128, 32: 128, 64: 64",
                     "z_dim / w_dim:   256 / 256", "mapping:         4 layers", "num_ws:          10", "conv_clamp:      256"] {
            #expect(r.stdout.contains(line), "missing \(line) in\n\(r.stdout)")
        }
        #expect(r.stdout.contains("verdict:         complete"))
    }

    @Test func infoOnTheTinyFixtureCountsParameters() throws {
        let r = try Self.run(["info", Fixtures.path("stylegan2/tiny32/weights.safetensors")])
        #expect(r.status == 0)
        #expect(r.stdout.contains("parameters:      263,987"))
        #expect(r.stdout.contains("conv_clamp:      none"))
    }

    @Test func badModelGetsOneLineAndFailure() throws {
        let dir = scratch.path
        let path = dir + "/broken.safetensors"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        let r = try Self.run(["info", path])
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains(path), "\(r.stderr)")
    }

    /// `bench --torch-python` runs the reference on each configuration and batch (here a stand-in
    /// script that prints the reference's JSON line for the arguments it was given) and puts its
    /// time beside linstory's with the ratio; a reference that fails is a one-line error.
    @Test func benchTimesTheReferenceBesideEachConfiguration() throws {
        let dir = scratch.path
        let script = dir + "/reference.sh"
        try """
            # $1 = --time, $2 = config, $3 = --threads, $4 = threads, $5 = --batch, $6 = batch
            [ "$1" = --time ] || exit 2
            echo '{"impl": "torch", "config": "'$2'", "batch": '$6', "op": "fwd_bwd", "median_ms": 4000.0}'
            echo '{"impl": "torch", "config": "'$2'", "batch": '$6', "op": "forward", "median_ms": 2000.0}'
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let r = try Self.run(["bench", "--config", "default64", "--batch", "1", "--reps", "1", "--no-sgemm", "--torch-python", "/bin/sh", "--torch-script", script])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = r.stdout.split(separator: "\n").filter { $0.hasPrefix("default64") }.map { $0.split(separator: " ").map(String.init) }
        #expect(rows.count == 2, "\(r.stdout)")
        for row in rows {
            // config, batch, op, linstory ms, per frame, CPU ms, GFLOP/s, of sgemm, torch ms, per frame, speed-up
            let torch = row[1] == "1" && row[2] == "forward" ? "2000.00" : "4000.00"
            #expect(row[8] == torch, "\(row)")
            let ratio = Double(torch)! / (Double(row[3]) ?? .nan)
            #expect(abs((Double(row[10].dropLast()) ?? .nan) - ratio) <= 0.01 * ratio, "\(row)")
        }

        try "exit 3\n".write(toFile: script, atomically: true, encoding: .utf8)
        let failed = try Self.run(["bench", "--config", "default64", "--batch", "1", "--reps", "1", "--no-sgemm", "--torch-python", "/bin/sh", "--torch-script", script])
        #expect(failed.status != 0)
        let lines = failed.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains(script) && lines[0].contains("exit 3"), "\(failed.stderr)")
    }

    /// A seed renders G(z) with z = numpy RandomState(seed).randn(1, z_dim), as NVIDIA's generate.py.
    @Test func seedsRenderTheNumpyLatent() throws {
        let dir = scratch.path
        let model = Fixtures.path("stylegan2/tiny32/weights.safetensors")
        let r = try Self.run(["generate", "--model", model, "--seeds", "3,5", "--out", dir + "/raw.npy"])
        #expect(r.status == 0, "\(r.stderr)")
        let ours = try NpyArray.read(path: dir + "/raw.npy")
        let g = try Fixtures.generator("tiny32")
        var rng = NumpyRandomState(seed: 5)
        // Written out here rather than with NumpyRandomState.latents(seeds:), which the command uses.
        let z = Tensor(shape: [1, g.config.zDim], values: rng.randn(g.config.zDim).map(Float.init))
        var rng3 = NumpyRandomState(seed: 3)
        let z3 = Tensor(shape: [1, g.config.zDim], values: rng3.randn(g.config.zDim).map(Float.init))
        #expect(ours.shape == [2, 3, 32, 32])
        // The engine in this process, at the batch the command used (both seeds in one batch of 2),
        // must give the same bits: the engine's work is split into fixed parts and both processes
        // pick the same OpenBLAS kernel from the same environment. A different batch would change
        // BLAS's blocking and so the rounding (up to ~1e-6 relative under OPENBLAS_CORETYPE=Haswell),
        // which is why no tolerance is needed only at equal batches.
        let expected = g(z: Tensor.concatenate([z3, z]))
        #expect(sameBits(ours, expected), "\(TensorComparison("seeds 3,5", ours: ours, reference: expected))")

        let png = try Self.run(["generate", "--model", model, "--seeds", "3-4", "--out", dir + "/png"])
        #expect(png.status == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/png").sorted()
        #expect(files == ["seed0003.png", "seed0004.png"])
        let image = try PNGFile.read(path: dir + "/png/seed0003.png")
        let direct = RGBImage(tensor: ours.slice(0..<1).reshaped([3, 32, 32]))
        // PNG bytes from the same floats may differ by one level where a value sits on a rounding edge.
        #expect(zip(image.pixels, direct.pixels).allSatisfy { abs(Int($0) - Int($1)) <= 1 })
    }

    @Test func latentsFromProjectedWnpz() throws {
        let dir = scratch.path
        let g = try Fixtures.generator("tiny32")
        let golden = try Fixtures.goldenCase("tiny32")
        let wplus = try golden.tensor("wplus")
        try NpzArchive.write([("w", wplus)], to: dir + "/projected_w.npz")
        let r = try Self.run([
            "generate", "--model", Fixtures.path("stylegan2/tiny32/weights.safetensors"), "--latents", dir + "/projected_w.npz",
            "--out", dir + "/img.npy", "--batch", "1",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let img = try NpyArray.read(path: dir + "/img.npy")
        // The command rendered one latent at a time (--batch 1): so does the engine here, and the bits
        // must agree (same kernels, same fixed split of the work; see seedsRenderTheNumpyLatent).
        let engine = Tensor.concatenate((0..<wplus.shape[0]).map { g.synthesize(ws: wplus.slice($0..<($0 + 1))) })
        #expect(sameBits(img, engine), "\(TensorComparison("engine", ours: img, reference: engine))")
        // Against NVIDIA's own rendering: the golden-parity bound (GoldenParityTests.outputTolerance).
        let c = TensorComparison("img_wplus_const", ours: img, reference: try golden.tensor("img_wplus_const"))
        #expect(c.relativeError < 1e-4, "\(c)")
    }

    /// A session records its files' absolute paths, so it opens from any folder; a moved model is
    /// named in a one-line error that says how to point at it, and `--model` is checked by content.
    @Test func aSessionFindsItsModelFromAnotherFolderAndAfterAMove() throws {
        let work = scratch.path + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.path("stylegan2/tiny32/weights.safetensors"), toPath: work + "/model.safetensors")
        // Relative paths, typed in `work` (env -C runs the binary there).
        let invert = try ExternalProcess.run(
            ["-C", work, Self.binary, "invert", Clips.bbbShot, "--model", "model.safetensors", "--out", "session",
             "--frames", "0:3", "--budget", "4", "--method", "scene"], check: false)
        #expect(invert.status == 0, "\(invert.stderr)")
        // stderr is a file, not a terminal: log lines, a milestone for the scene and a last line.
        #expect(invert.stderr.contains("scene: 0/12 it (0%)") && invert.stderr.contains(": starting"), "\(invert.stderr)")
        #expect(invert.stderr.contains("scene: done, 12 it in "), "\(invert.stderr)")
        // The held-out test that ends the run talks too (on a film it refits every scene).
        #expect(invert.stderr.contains("scene held-out: done, 1 scenes in "), "\(invert.stderr)")
        let manifest = try SessionFolder.read(folder: work + "/session").manifest
        #expect(manifest.model.path == work + "/model.safetensors")
        #expect(manifest.video.path == Clips.bbbShot)

        let session = work + "/session"
        let fromElsewhere = try Self.run(["interpolate", session, "--scene", "0", "--frames", "2", "--out", scratch.path + "/a"])
        #expect(fromElsewhere.status == 0, "\(fromElsewhere.stderr)")

        try FileManager.default.moveItem(atPath: work + "/model.safetensors", toPath: scratch.path + "/moved.safetensors")
        let moved = try Self.run(["interpolate", session, "--scene", "0", "--frames", "2", "--out", scratch.path + "/b"])
        #expect(moved.status != 0)
        let lines = moved.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains(work + "/model.safetensors") && lines[0].contains("--model"), "\(moved.stderr)")

        let pointed = try Self.run(["interpolate", session, "--scene", "0", "--frames", "2", "--out", scratch.path + "/c", "--model", scratch.path + "/moved.safetensors"])
        #expect(pointed.status == 0, "\(pointed.stderr)")
        let other = try Self.run(["interpolate", session, "--scene", "0", "--frames", "2", "--out", scratch.path + "/d", "--model", Fixtures.path("stylegan2/small64/weights.safetensors")])
        #expect(other.status != 0 && other.stderr.contains("is not the model this session was made with"), "\(other.stderr)")
    }

    /// A child that writes more to stderr than a pipe holds (64 KiB) while we wait on its stdout must
    /// not hang the suite (`run` reads both through files).
    @Test(.timeLimit(.minutes(1))) func aChildThatFillsStderrIsReadToTheEnd() throws {
        // One argument may hold up to 128 KiB (MAX_ARG_STRLEN); the error repeats it.
        let long = "/" + String(repeating: "x", count: 100_000)
        let r = try Self.run(["info", long])
        #expect(r.status != 0)
        #expect(r.stderr.utf8.count > 100_000, "\(r.stderr.utf8.count) bytes of stderr")
    }

    @Test func latentsOfTheWrongShapeAreRefused() throws {
        let dir = scratch.path
        try NpzArchive.write([("w", Tensor(zeros: [1, 7, 64]))], to: dir + "/w.npz")
        let r = try Self.run(["generate", "--model", Fixtures.path("stylegan2/tiny32/weights.safetensors"), "--latents", dir + "/w.npz", "--out", dir + "/o"])
        #expect(r.status != 0)
        #expect(r.stderr.contains(dir + "/w.npz: latents have shape [1, 7, 64]"), "\(r.stderr)")
    }
}
