import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension AtomicFile {
    /// A crash-safe write that arrives in pieces: appended in order, or placed at offsets (a row
    /// written out of order, a header patched once its checksum is known), then committed.
    ///
    /// Until `commit` the bytes live in a temporary file beside `path` (same naming as
    /// `AtomicFile.write`, so leftovers from a crash look the same); `commit` fsyncs it and renames
    /// it over `path`. A stream dropped without a commit (an error, a cancelled session) removes its
    /// temporary file, so `path` keeps its old contents and the folder gains nothing.
    public final class Stream {
        /// The file `commit` replaces.
        public let path: String
        private let temporary: String
        private let folder: String
        /// -1 once closed: after a commit, or after a failure that gave the stream up.
        private var fd: Int32
        private var committed = false

        /// Bytes appended so far, which is where the next `append` goes. `write(_:at:)` does not move
        /// it, even past it: placed bytes are the caller's bookkeeping.
        public private(set) var size = 0

        /// Creates the temporary file next to `path`; `path` itself is untouched until `commit`.
        public init(path: String) throws {
            let url = URL(fileURLWithPath: path)
            let folder = url.deletingLastPathComponent().path
            let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            guard fd >= 0 else { throw AtomicFile.failure(path, "cannot create a temporary file in \(folder)") }
            self.path = path
            self.temporary = temporary
            self.folder = folder
            self.fd = fd
        }

        deinit {
            if !committed { abandon() }
        }

        /// Adds `bytes` at the end of what was appended so far.
        public func append(_ bytes: UnsafeRawBufferPointer) throws {
            try write(bytes, at: size)
            size += bytes.count
        }

        public func append(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try append($0) }
        }

        /// Writes `bytes` at file offset `offset`, over whatever is there; a gap before it reads as zeros.
        public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
            guard offset >= 0 else { throw LinstoryError(.invalidValue, file: path, "cannot write at negative offset \(offset)") }
            let fd = try openDescriptor()
            guard var next = bytes.baseAddress else { return }
            var left = bytes.count
            var at = offset
            while left > 0 {
                // Linux moves at most about 2 GiB per call; asking for less keeps every call whole.
                let n = pwrite(fd, next, min(left, 1 << 30), off_t(at))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AtomicFile.failure(path, "cannot write")
                }
                next += n
                at += n
                left -= n
            }
        }

        /// Makes the written bytes the contents of `path`: fsync, close, rename, then fsync the folder.
        /// A second call is an error, as is any write after it. If the commit fails the temporary file
        /// is removed and `path` keeps what it had.
        public func commit() throws {
            let fd = try openDescriptor()
            guard fsync(fd) == 0 else { throw giveUp(AtomicFile.failure(path, "cannot flush to disk")) }
            self.fd = -1
            guard close(fd) == 0 else { throw giveUp(AtomicFile.failure(path, "cannot write")) }
            guard rename(temporary, path) == 0 else { throw giveUp(AtomicFile.failure(path, "cannot replace")) }
            committed = true

            // Make the rename itself durable; not every file system supports fsync on a folder,
            // and the data is already safe, so a failure here is not an error.
            let dir = open(folder, O_RDONLY | O_CLOEXEC)
            if dir >= 0 {
                _ = fsync(dir)
                _ = close(dir)
            }
        }

        /// The descriptor, or why there is none any more.
        private func openDescriptor() throws -> Int32 {
            guard !committed else { throw LinstoryError(.invalidValue, file: path, "already committed; the stream is finished") }
            guard fd >= 0 else { throw LinstoryError(.invalidValue, file: path, "an earlier commit failed; the stream is finished") }
            return fd
        }

        /// `error`, after closing and removing the temporary file (built first, so errno is still the failure's).
        private func giveUp(_ error: LinstoryError) -> LinstoryError {
            abandon()
            return error
        }

        private func abandon() {
            if fd >= 0 { _ = close(fd) }
            fd = -1
            _ = unlink(temporary)
        }
    }
}
