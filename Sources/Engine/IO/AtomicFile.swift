import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and crash-safe whole-file writes.
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
    /// (a tensor's buffer) be written without first being copied into one byte array.
    public static func write(
        to path: String,
        _ body: (_ append: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let temp = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"

        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw failure(path, "cannot create a temporary file in \(folder)") }
        var closed = false
        var renamed = false
        defer {
            if !closed { _ = close(fd) }
            if !renamed { _ = unlink(temp) }
        }

        try body { chunk in
            guard var next = chunk.baseAddress else { return }
            var left = chunk.count
            while left > 0 {
                let n = systemWrite(fd, next, min(left, 1 << 30))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw failure(path, "cannot write")
                }
                next += n
                left -= n
            }
        }
        guard fsync(fd) == 0 else { throw failure(path, "cannot flush to disk") }
        closed = true
        guard close(fd) == 0 else { throw failure(path, "cannot write") }
        guard rename(temp, path) == 0 else { throw failure(path, "cannot replace") }
        renamed = true

        // Make the rename itself durable; not every file system supports fsync on a folder,
        // and the data is already safe, so a failure here is not an error.
        let dir = open(folder, O_RDONLY | O_CLOEXEC)
        if dir >= 0 {
            _ = fsync(dir)
            _ = close(dir)
        }
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
    private static func failure(_ path: String, _ what: String, code: Int32 = errno) -> LinstoryError {
        let kind: LinstoryError.Kind = code == ENOENT || code == ENOTDIR ? .notFound : .unreadable
        return LinstoryError(kind, file: path, "\(what): \(String(cString: strerror(code)))")
    }
}
