import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and crash-safe writes: whole files here, files written in pieces through
/// `AtomicFile.Stream` (which the whole-file writes use too).
///
/// Writes go to a temporary file in the target's folder, are fsynced, then renamed over the
/// target, so a reader (or a crash) sees either the old file or the complete new one, never a
/// half-written `projected_w.npz`. The temporary file lives in the same folder because rename is
/// only atomic within one file system.
public enum AtomicFile {
    /// Replaces `path` with `bytes` atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { raw in try write(to: path) { append in try append(raw) } }
    }

    /// Replaces `path` with `data` atomically.
    public static func write(_ data: Data, to path: String) throws {
        try data.withUnsafeBytes { raw in try write(to: path) { append in try append(raw) } }
    }

    /// Replaces `path` atomically with whatever `body` appends, in order. Lets large payloads
    /// (a tensor's buffer) be written without first being copied into one byte array. If `body`
    /// throws, the stream is dropped uncommitted and takes its temporary file with it.
    public static func write(
        to path: String,
        _ body: (_ append: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        let stream = try Stream(path: path)
        try body { chunk in try stream.append(chunk) }
        try stream.commit()
    }

    /// The whole file at `path`.
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(path, "cannot open") }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure(path, "cannot open") }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw LinstoryError(.wrongFormat, file: path, "is a folder, not a file") }

        // st_size is only a hint (pipes report 0, files change), so read until end of file; the
        // extra byte lets a file of the expected size end in one pass.
        var out = [UInt8](repeating: 0, count: max(Int(info.st_size), 0) + 1)
        var filled = 0
        while true {
            if filled == out.count { out.append(contentsOf: repeatElement(0, count: max(out.count, 1 << 16))) }
            let got = out.withUnsafeMutableBytes { buf in
                systemRead(fd, buf.baseAddress! + filled, buf.count - filled)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw failure(path, "cannot read")
            }
            if got == 0 { break }
            filled += got
        }
        out.removeSubrange(filled...)
        return out
    }

    /// `code` defaults to errno as it is at the call, before anything else can change it. A path
    /// (or the folder it is in) that does not exist is `.notFound`; any other failure `.unreadable`.
    static func failure(_ path: String, _ what: String, code: Int32 = errno) -> LinstoryError {
        let kind: LinstoryError.Kind = code == ENOENT || code == ENOTDIR ? .notFound : .unreadable
        return LinstoryError(kind, file: path, "\(what): \(String(cString: strerror(code)))")
    }
}
