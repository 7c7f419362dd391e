import ArgumentParser
import Engine

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Describe a generator checkpoint and check that it is complete.")

    @Argument(help: "A generator checkpoint (.safetensors with the official state_dict names).")
    var model: String

    func run() throws {
        let checkpoint = try GeneratorCheckpoint.load(path: model)
        print(Self.describe(checkpoint))
    }

    static func describe(_ checkpoint: GeneratorCheckpoint) -> String {
        let c = checkpoint.generator.config
        let channels = zip(c.blockResolutions, c.blockChannels).map { "\($0): \($1)" }.joined(separator: ", ")
        let clamp: String
        if let v = c.convClamp {
            clamp = String(format: "%g", v)
        } else {
            clamp = checkpoint.convClampRecorded ? "none" : "not recorded (none used)"
        }
        var lines = [
            "file:            \(checkpoint.path)",
            "format:          \(checkpoint.format)",
            "resolution:      \(c.imgResolution) x \(c.imgResolution), \(c.imgChannels) channel\(c.imgChannels == 1 ? "" : "s")",
            "channels:        \(channels)",
            "z_dim / w_dim:   \(c.zDim) / \(c.wDim)",
            "mapping:         \(c.mappingLayers) layers (lr multiplier \(c.mappingLRMultiplier))",
            "num_ws:          \(c.numWs)",
            "parameters:      \(checkpoint.generator.parameterCount.formatted())",
            "conv_clamp:      \(clamp)",
        ]
        if let kimg = checkpoint.metadata["kimg"] { lines.append("trained:         \(kimg) kimg") }
        if let note = checkpoint.metadata["w_avg"] { lines.append("w_avg:           \(note)") }
        lines.append("verdict:         complete: every tensor present, shaped as the configuration implies, and finite")
        return lines.joined(separator: "\n")
    }
}

extension Int {
    func formatted() -> String {
        let digits = Array(String(self))
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return out
    }
}
