import Foundation

/// A generator read from a file, with what `linstory info` reports about where it came from.
public struct GeneratorCheckpoint: Sendable {
    public let path: String
    /// "safetensors" (and later "NVIDIA pickle", "rosinality .pt").
    public let format: String
    public let generator: Generator
    /// Whether conv_clamp was recorded in the file (it is not part of the state_dict).
    public let convClampRecorded: Bool
    public let metadata: [String: String]

    /// Loads a generator from a safetensors file holding the official state_dict names; its
    /// `__metadata__.config` (JSON, as written by the fixtures and `linstory convert`) supplies
    /// conv_clamp. Every tensor is checked: names, shapes, dtype and finiteness.
    public static func load(path: String) throws -> GeneratorCheckpoint {
        guard FileManager.default.fileExists(atPath: path) else { throw LinstoryError(file: path, "no such file") }
        try BLAS.load()
        let file = try SafeTensorsFile(path: path)
        var tensors: [String: Tensor] = [:]
        for name in file.names { tensors[name] = try file.tensor(name) }
        var clamp: Float?
        var recorded = false
        if let json = file.metadata["config"] {
            guard let data = json.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { throw LinstoryError(file: path, "metadata 'config' is not a JSON object") }
            if let value = object["conv_clamp"] {
                recorded = true
                if let number = value as? NSNumber { clamp = number.floatValue }
            }
        }
        let g = try GeneratorLoader.build(tensors: tensors, convClamp: clamp, file: path)
        return GeneratorCheckpoint(path: path, format: "safetensors", generator: g, convClampRecorded: recorded, metadata: file.metadata)
    }
}
