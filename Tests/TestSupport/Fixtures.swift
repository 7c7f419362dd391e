import Engine
import Foundation

/// Where the repository's test data lives, found from this file's path (no bundles needed).
public enum Fixtures {
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func path(_ relative: String) -> String {
        repoRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(relative).path
    }

    /// `../shared` beside the repository, when present (CI and developer machines have it).
    public static var shared: URL? {
        let url = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    public static func generator(_ fixture: String) throws -> Generator {
        try GeneratorCheckpoint.load(path: path("stylegan2/\(fixture)/weights.safetensors")).generator
    }

    public static func goldenCase(_ fixture: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(path: path("stylegan2/\(fixture)/case.safetensors"))
    }
}
