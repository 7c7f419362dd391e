import ArgumentParser
import Engine

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert an NVIDIA .pkl or a rosinality .pt generator to safetensors with the official names.",
        discussion: """
            Reads the file without running anything from it (the pickle's embedded source code is never
            executed) and writes G_ema / g_ema under NVIDIA's state_dict names, with the configuration
            in the metadata ('format', and 'config' as JSON: z_dim, w_dim, img_resolution, img_channels,
            mapping_layers, channel_base, channel_max, conv_clamp), as the fixtures have it. A rosinality
            file carries no w_avg: it is computed from 10,000 mapping samples and noted in 'w_avg'.
            """)

    @Argument(help: "An NVIDIA training snapshot (.pkl) or a rosinality checkpoint (.pt).") var input: String
    @Argument(help: "The safetensors file to write.") var output: String

    func run() throws {
        try BLAS.load()
        let checkpoint = try ForeignCheckpoint.read(path: input)
        // Built before writing, so that a file linstory could not run is never written.
        let g = try GeneratorLoader.build(
            tensors: checkpoint.tensors, convClamp: checkpoint.config.convClamp,
            mappingLRMultiplier: checkpoint.config.mappingLRMultiplier, file: input)
        try SafeTensorsWriter.write(
            checkpoint.tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, metadata: checkpoint.metadata, to: output)
        let c = g.config
        print("\(output): \(checkpoint.tensors.count) tensors from \(checkpoint.formatDescription), "
            + "\(c.imgResolution)x\(c.imgResolution), z_dim \(c.zDim), w_dim \(c.wDim)")
        if let note = checkpoint.metadata["w_avg"] { print("w_avg \(note)") }
    }
}
