import Engine
import Foundation

/// ImageMagick as an independent sixel decoder for the encoder's tests.
enum ImageMagick {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Decodes sixel bytes with `convert sixel:FILE png:-`.
    static func decodeSixel(_ bytes: [UInt8]) throws -> RGBImage {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-sixel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let six = dir.appendingPathComponent("image.six").path
        try Data(bytes).write(to: URL(fileURLWithPath: six))
        let png = dir.appendingPathComponent("image.png").path
        // Plain png: on purpose. ImageMagick 6.9.11's sixel reader fills the colour map and the
        // indices but not the pixels, so any output that converts to direct colour (png24:, ppm:,
        // txt:) comes out black; a palette PNG is written from the map and the indices.
        let result = try ExternalProcess.run(["convert", "sixel:" + six, "png:" + png], check: false)
        guard result.status == 0, FileManager.default.fileExists(atPath: png) else {
            throw Failure(description: "convert failed (\(result.status)): \(result.stderr) (scripts/setup.sh installs imagemagick)")
        }
        return try PNGFile.read(path: png)
    }
}
