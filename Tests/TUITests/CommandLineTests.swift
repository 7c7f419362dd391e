import Engine
import Foundation
import Testing
import TestSupport

/// The `linstory` binary as a user runs it (built by `swift build --build-tests` beside the tests).
@Suite("linstory on the command line")
struct CommandLineTests {
    static let binary = Fixtures.repoRoot.appendingPathComponent(".build/release/linstory").path

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func temporaryFolder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
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
        let dir = try Self.temporaryFolder()
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
        let dir = try Self.temporaryFolder()
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
        let dir = try Self.temporaryFolder()
        let model = Fixtures.path("stylegan2/tiny32/weights.safetensors")
        let r = try Self.run(["generate", "--model", model, "--seeds", "3,5", "--out", dir + "/raw.npy"])
        #expect(r.status == 0, "\(r.stderr)")
        let ours = try NpyArray.read(path: dir + "/raw.npy")
        let g = try Fixtures.generator("tiny32")
        var rng = NumpyRandomState(seed: 5)
        let z = Tensor(shape: [1, g.config.zDim], values: rng.randn(g.config.zDim).map(Float.init))
        let expected = g(z: z)
        #expect(ours.shape == [2, 3, 32, 32])
        // Batch size changes BLAS's blocking, so allow float rounding, nothing more (Winograd's
        // transforms scale a rounding error by up to ~10: 1.3e-6 seen, 1e-5 allowed).
        let same = TensorComparison("seed 5", ours: ours.slice(1..<2), reference: expected)
        #expect(same.relativeError < 1e-5, "\(same)")

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
        let dir = try Self.temporaryFolder()
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
        let engine = TensorComparison("engine", ours: img, reference: g.synthesize(ws: wplus))
        #expect(engine.relativeError < 1e-6, "\(engine)")
        let c = TensorComparison("img_wplus_const", ours: img, reference: try golden.tensor("img_wplus_const"))
        #expect(c.relativeError < 1e-4, "\(c)")
    }

    @Test func latentsOfTheWrongShapeAreRefused() throws {
        let dir = try Self.temporaryFolder()
        try NpzArchive.write([("w", Tensor(zeros: [1, 7, 64]))], to: dir + "/w.npz")
        let r = try Self.run(["generate", "--model", Fixtures.path("stylegan2/tiny32/weights.safetensors"), "--latents", dir + "/w.npz", "--out", dir + "/o"])
        #expect(r.status != 0)
        #expect(r.stderr.contains(dir + "/w.npz: latents have shape [1, 7, 64]"), "\(r.stderr)")
    }
}
