import Engine
import Foundation
import Testing
import TestSupport

/// `linstory convert` and the other commands on .pkl and .pt files, through the binary.
@Suite("linstory convert and the three checkpoint formats")
final class ConvertCommandTests {
    /// This test's scratch folder, removed when the test ends.
    let scratch: TemporaryFolder
    init() throws { scratch = try TemporaryFolder("linstory-cli") }

    static func run(_ arguments: [String]) throws -> CommandLineTests.Result { try CommandLineTests.run(arguments) }

    /// convert, then info and generate on the result: the same report (bar file and format) and the
    /// same images as from the original file.
    @Test(arguments: ["snapshot16.pkl", "rosinality16.pt", "rosinality16-legacy.pt"])
    func convertRoundTrips(file: String) throws {
        let dir = scratch.path
        let input = Fixtures.path("checkpoints/\(file)")
        let output = dir + "/converted.safetensors"
        let convert = try Self.run(["convert", input, output])
        #expect(convert.status == 0, "\(convert.stderr)")
        #expect(convert.stdout.contains("tensors from"))

        let converted = try SafeTensorsFile(path: output)
        #expect(converted.metadata["format"] == "stylegan2-ada-pytorch G_ema state_dict")
        let config = try #require(converted.metadata["config"])
        #expect(config.hasPrefix(#"{"z_dim": 32, "w_dim": 32, "img_resolution": 16, "img_channels": 3, "mapping_layers": 2, "channel_base": 256, "channel_max": 32, "conv_clamp": "#))

        let before = try Self.run(["info", input])
        let after = try Self.run(["info", output])
        #expect(before.status == 0 && after.status == 0)
        func body(_ s: String) -> [Substring] { s.split(separator: "\n").filter { !$0.hasPrefix("file:") && !$0.hasPrefix("format:") } }
        #expect(body(before.stdout) == body(after.stdout), "\(before.stdout)\n---\n\(after.stdout)")
        #expect(after.stdout.contains("format:          safetensors"))

        for (model, out) in [(input, "a.npy"), (output, "b.npy")] {
            let r = try Self.run(["generate", "--model", model, "--seeds", "0-2", "--truncation", "0.7", "--out", "\(dir)/\(out)"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(sameBits(try NpyArray.read(path: "\(dir)/a.npy"), try NpyArray.read(path: "\(dir)/b.npy")))
    }

    @Test func infoNamesTheFormatAndTheWAvgEstimate() throws {
        let pt = try Self.run(["info", Fixtures.path("checkpoints/rosinality16.pt")])
        #expect(pt.stdout.contains("format:          rosinality .pt (g_ema)"))
        #expect(pt.stdout.contains("w_avg:           computed from 10,000 mapping samples"))
        #expect(pt.stdout.contains("conv_clamp:      none"))
        let pkl = try Self.run(["info", Fixtures.path("checkpoints/snapshot16.pkl")])
        #expect(pkl.stdout.contains("format:          NVIDIA pickle (G_ema)"))
        #expect(pkl.stdout.contains("conv_clamp:      256"))
    }

    @Test func hostileFileGetsOneLine() throws {
        let dir = scratch.path
        var w = PickleWriter(protocol: 4)
        w.global("os", "system")
        w.string("echo pwned")
        w.raw([0x85])
        w.reduce()
        w.stop()
        let path = dir + "/network-snapshot-000100.pkl"
        try Data(w.bytes).write(to: URL(fileURLWithPath: path))
        for arguments in [["info", path], ["convert", path, dir + "/x.safetensors"], ["generate", "--model", path, "--seeds", "0", "--out", dir + "/o.npy"]] {
            let r = try Self.run(arguments)
            #expect(r.status != 0)
            #expect(!r.stdout.contains("pwned"))
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(path) && lines[0].contains("'os.system'"), "\(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.safetensors"))
    }

    @Test func convertRefusesSafetensorsInput() throws {
        let dir = scratch.path
        let r = try Self.run(["convert", Fixtures.path("checkpoints/official16.safetensors"), dir + "/x.safetensors"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("is neither an NVIDIA pickle nor a torch.save file"))
    }
}
