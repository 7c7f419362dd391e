import Foundation

/// A generator read from a file, with what `linstory info` reports about where it came from.
public struct GeneratorCheckpoint: Sendable {
    public let path: String
    /// "safetensors", "NVIDIA pickle (G_ema)" or "rosinality .pt (g_ema)".
    public let format: String
    public let generator: Generator
    /// Whether conv_clamp was recorded in the file (it is not part of the state_dict).
    public let convClampRecorded: Bool
    public let metadata: [String: String]

    /// Loads a generator from a safetensors file holding the official state_dict names, an NVIDIA
    /// training snapshot (.pkl) or a rosinality checkpoint (.pt), told apart by their first bytes.
    /// Every tensor is checked: names, shapes, dtype and finiteness.
    public static func load(path: String) throws -> GeneratorCheckpoint {
        guard FileManager.default.fileExists(atPath: path) else { throw LinstoryError(.notFound, file: path, "no such file") }
        try BLAS.load()
        switch try CheckpointFormat.of(path: path) {
        case .safetensors:
            return try loadSafeTensors(path: path)
        case .nvidiaPickle, .torchSave:
            let foreign = try ForeignCheckpoint.read(path: path)
            let g = try GeneratorLoader.build(
                tensors: foreign.tensors, convClamp: foreign.config.convClamp,
                mappingLRMultiplier: foreign.config.mappingLRMultiplier, file: path)
            return GeneratorCheckpoint(
                path: path, format: foreign.formatDescription, generator: g, convClampRecorded: true, metadata: foreign.metadata)
        }
    }

    /// The safetensors `__metadata__.config` (JSON, as written by the fixtures and `linstory convert`)
    /// supplies conv_clamp and, when it is not 0.01, the mapping's lr multiplier.
    private static func loadSafeTensors(path: String) throws -> GeneratorCheckpoint {
        let file = try SafeTensorsFile(path: path)
        var tensors: [String: Tensor] = [:]
        for name in file.names { tensors[name] = try file.tensor(name) }
        var clamp: Float?
        var recorded = false
        var lrMultiplier: Float = 0.01
        if let json = file.metadata["config"] {
            guard let data = json.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { throw LinstoryError(.corrupt, file: path, "metadata 'config' is not a JSON object") }
            if let value = object["conv_clamp"] {
                recorded = true
                if let number = value as? NSNumber { clamp = number.floatValue }
            }
            if let number = object["mapping_lr_multiplier"] as? NSNumber { lrMultiplier = number.floatValue }
        }
        let g = try GeneratorLoader.build(tensors: tensors, convClamp: clamp, mappingLRMultiplier: lrMultiplier, file: path)
        return GeneratorCheckpoint(path: path, format: "safetensors", generator: g, convClampRecorded: recorded, metadata: file.metadata)
    }
}
