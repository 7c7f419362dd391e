import CPNG

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// PNG frames in and out, through libpng (the CPNG target keeps libpng's longjmp on the C side).
///
/// Every image read comes back as 8-bit RGB whatever the file holds: palette and grayscale are
/// expanded, 16-bit samples are scaled with rounding, and alpha is dropped, not composited (as
/// Pillow's `convert("RGB")` does). Errors are `LinstoryError`s that name the file.
public enum PNGFile {
    /// Reads the PNG at `path`.
    public static func read(path: String) throws -> RGBImage {
        try decoded(name: path, file: path) { pixels, width, height, message, size in
            cpng_read_rgb8_file(path, pixels, width, height, message, size)
        }
    }

    /// Decodes PNG bytes held in memory; `name` is what error messages call them.
    public static func decode(_ bytes: [UInt8], name: String) throws -> RGBImage {
        try bytes.withUnsafeBufferPointer { data in
            try decoded(name: name) { pixels, width, height, message, size in
                cpng_read_rgb8_memory(data.baseAddress, data.count, pixels, width, height, message, size)
            }
        }
    }

    /// Writes `image` as an RGB PNG. Atomic: readers see the old file or the complete new one,
    /// never a partial frame, even if the tool is killed midway.
    public static func write(_ image: RGBImage, to path: String) throws {
        try write(image.pixels, width: image.width, height: image.height, channels: 3, to: path)
    }

    /// Writes `[height, width]` 8-bit samples as a grayscale PNG, atomically.
    public static func writeGray(_ pixels: [UInt8], width: Int, height: Int, to path: String) throws {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height,
                     "\(pixels.count) bytes is not \(width)x\(height) gray")
        try write(pixels, width: width, height: height, channels: 1, to: path)
    }

    /// Encodes `image` as RGB PNG bytes, for callers that store them themselves.
    public static func encode(_ image: RGBImage) throws -> [UInt8] {
        let (width, height) = try dimensions(image.width, image.height, name: "image")
        var out: UnsafeMutablePointer<UInt8>?
        var count = 0
        let (status, message) = image.pixels.withUnsafeBufferPointer { src in
            withMessageBuffer { buffer, size in
                cpng_write8_memory(src.baseAddress, width, height, 3, &out, &count, buffer, size)
            }
        }
        defer { cpng_free(out) }
        guard status == CPNG_OK, let out else { throw LinstoryError(kind(status), file: "image", problem(status, message)) }
        return Array(UnsafeBufferPointer(start: out, count: count))
    }

    // MARK: - Plumbing

    private typealias Reader = (
        UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<UInt32>,
        UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<CChar>, Int
    ) -> cpng_status

    /// `file` is the path read, when it is a file: it tells a missing file from an unreadable one.
    private static func decoded(name: String, file: String? = nil, _ read: Reader) throws -> RGBImage {
        var pixels: UnsafeMutablePointer<UInt8>?
        var width: UInt32 = 0
        var height: UInt32 = 0
        let (status, message) = withMessageBuffer { buffer, size in read(&pixels, &width, &height, buffer, size) }
        defer { cpng_free(pixels) }
        guard status == CPNG_OK, let pixels else {
            throw LinstoryError(kind(status, missing: file.map(isMissing) ?? false), file: name, problem(status, message))
        }
        let w = Int(width), h = Int(height)
        return RGBImage(width: w, height: h, pixels: Array(UnsafeBufferPointer(start: pixels, count: w * h * 3)))
    }

    private static func write(_ pixels: [UInt8], width: Int, height: Int, channels: Int32, to path: String) throws {
        let (w, h) = try dimensions(width, height, name: path)
        try replaceAtomically(path) { temporary in
            let (status, message) = pixels.withUnsafeBufferPointer { src in
                withMessageBuffer { buffer, size in
                    cpng_write8_file(temporary, src.baseAddress, w, h, channels, buffer, size)
                }
            }
            guard status == CPNG_OK else {
                throw LinstoryError(kind(status, missing: isMissing(folder(of: path))), file: path, problem(status, message))
            }
        }
    }

    /// Runs `body` on a sibling temporary path, then renames it over `path`. The temporary lives in
    /// the same folder so the rename stays on one file system and is atomic; the random suffix keeps
    /// two threads of one process writing the same frame from sharing it.
    private static func replaceAtomically(_ path: String, _ body: (String) throws -> Void) throws {
        let temporary = "\(path).tmp-\(getpid())-\(String(UInt32.random(in: .min ... .max), radix: 16))"
        do {
            try body(temporary)
        } catch {
            unlink(temporary)
            throw error
        }
        if rename(temporary, path) != 0 {
            let reason = systemError(errno)
            unlink(temporary)
            throw LinstoryError(.unreadable, file: path, "cannot replace: \(reason)")
        }
    }

    private static func dimensions(_ width: Int, _ height: Int, name: String) throws -> (UInt32, UInt32) {
        guard let w = UInt32(exactly: width), let h = UInt32(exactly: height) else {
            throw LinstoryError(.invalidValue, file: name, "cannot write a \(width)x\(height) image as PNG")
        }
        return (w, h)
    }

    private static func withMessageBuffer(
        _ body: (UnsafeMutablePointer<CChar>, Int) -> cpng_status
    ) -> (cpng_status, String) {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 512) { buffer in
            buffer.initialize(repeating: 0)
            guard let base = buffer.baseAddress else { return (CPNG_ERR_NO_MEMORY, "") }
            let status = body(base, buffer.count)
            // The C side always terminates, but the last byte is forced anyway so a bug there cannot
            // make this read past the buffer.
            buffer[buffer.count - 1] = 0
            return (status, String(cString: base))
        }
    }

    private static func problem(_ status: cpng_status, _ message: String) -> String {
        message.isEmpty ? "PNG error \(status.rawValue)" : message
    }

    /// The error kind for a failed status. `missing` says the file read (or the folder written
    /// into) is not there, which makes an open or write failure `.notFound`.
    private static func kind(_ status: cpng_status, missing: Bool = false) -> LinstoryError.Kind {
        switch status {
        case CPNG_ERR_OPEN, CPNG_ERR_WRITE: missing ? .notFound : .unreadable
        case CPNG_ERR_NOT_PNG: .wrongFormat
        case CPNG_ERR_CORRUPT: .corrupt
        case CPNG_ERR_TOO_LARGE: .tooLarge
        case CPNG_ERR_UNSUPPORTED: .unsupported
        case CPNG_ERR_ARGUMENT: .invalidValue
        default: .unreadable  // CPNG_ERR_NO_MEMORY: the system, not the file
        }
    }

    /// Whether `path` (or a folder on the way to it) does not exist.
    private static func isMissing(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) != 0 && (errno == ENOENT || errno == ENOTDIR)
    }

    /// The folder `path` is in ("." for a bare name).
    private static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func systemError(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
