import ArgumentParser
import Engine
import Foundation

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Render images from latents (.npy/.npz) or from z seeds.",
        discussion: """
            A seed gives the same z as the official generate.py (numpy RandomState(seed).randn), so the
            same seed renders the same image in both tools. OUT is a folder of PNGs (seed0000.png or
            000000.png ...), or a .npy file that receives the raw float32 images [N, C, R, R] unclamped.
            """)

    @Option(help: "The generator checkpoint.") var model: String
    @Option(help: "Latents: .npy or .npz (key w), [N, num_ws, w_dim] or [N, w_dim].") var latents: String?
    @Option(help: "z seeds instead of latents, e.g. 0-7 or 1,5,9.") var seeds: SeedRange?
    @Option(help: "A folder for PNGs, or a .npy file for raw output.") var out: String
    @Option(help: "Noise mode: const, none or random.") var noiseMode: NoiseModeName = .const
    @Option(help: "Seed for --noise-mode random.") var noiseSeed: UInt64 = 0
    @Option(help: "Truncation psi (seeds only; latents are used as given).") var truncation: Float = 1
    @Option(help: "Images rendered per batch.") var batch: Int = 8

    enum NoiseModeName: String, ExpressibleByArgument { case const, none, random }

    func validate() throws {
        if (latents == nil) == (seeds == nil) { throw ValidationError("give exactly one of --latents and --seeds") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
    }

    func run() throws {
        let g = try GeneratorCheckpoint.load(path: model).generator
        let c = g.config
        let ws: Tensor
        var names: [String]
        if let seeds {
            let z = NumpyRandomState.latents(seeds: seeds.seeds, zDim: c.zDim)
            ws = g.mapping(z, truncationPsi: truncation)
            names = seeds.seeds.map { String(format: "seed%04d.png", $0) }
        } else {
            ws = try LatentsFile.read(path: latents!, numWs: c.numWs, wDim: c.wDim)
            names = (0..<ws.shape[0]).map { String(format: "%06d.png", $0) }
        }
        let noise: NoiseMode = switch noiseMode {
        case .const: .const
        case .none: .none
        case .random: .random(seed: noiseSeed)
        }
        let n = ws.shape[0]
        let workspace = SynthesisWorkspace(network: g.synthesis, batch: min(batch, n))
        var images: [Tensor] = []
        var start = 0
        while start < n {
            let count = min(batch, n - start)
            var chunk = ws.slice(start..<(start + count))
            if count < workspace.batch {
                // Pad the last batch so the workspace is reused; the padding is dropped below.
                chunk = Tensor.concatenate([chunk] + Array(repeating: chunk.slice(0..<1), count: workspace.batch - count))
            }
            let img = g.synthesis.forward(chunk, noise: noise, workspace: workspace)
            images.append(img.slice(0..<count))
            start += count
        }
        let all = Tensor.concatenate(images)
        if out.hasSuffix(".npy") {
            try NpyArray.write(all, to: out)
            print("wrote \(out) [\(all.shape.map(String.init).joined(separator: ", "))]")
            return
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for i in 0..<n {
            let path = (out as NSString).appendingPathComponent(names[i])
            try ImageOutput.writePNG(all.slice(i..<(i + 1)), to: path)
        }
        print("wrote \(n) image\(n == 1 ? "" : "s") to \(out)")
    }
}
