import Foundation

/// A fresh folder under the system's temporary directory, removed with everything in it when the
/// value is released. A suite that is a class holds one per test: Swift Testing makes a new suite
/// instance for every test and releases it when the test ends, so nothing is left behind.
public final class TemporaryFolder: Sendable {
    public let path: String

    public init(_ prefix: String = "linstory-test") throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
