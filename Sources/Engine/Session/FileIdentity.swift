import Foundation

/// Enough of a file to tell whether a session was made from it: path, size and a content hash
/// (FNV-1a 64 of the first and last MiB and the size; whole files are not read, videos are big).
public struct FileIdentity: Sendable, Codable, Equatable {
    public var path: String
    public var bytes: Int
    public var hash: String

    public init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        guard let handle = try? FileHandle(forReadingFrom: url) else { throw LinstoryError(.unreadable, file: path, "cannot read the file") }
        defer { try? handle.close() }
        let size = Int((try? handle.seekToEnd()) ?? 0)
        var h = FNV1a()
        func mix(_ data: Data) { h.bytes(data) }
        try? handle.seek(toOffset: 0)
        mix((try? handle.read(upToCount: 1 << 20)) ?? Data())
        if size > 2 << 20 {
            try? handle.seek(toOffset: UInt64(size - (1 << 20)))
            mix((try? handle.read(upToCount: 1 << 20)) ?? Data())
        }
        h.word64(UInt64(size))
        self.path = Self.absolute(path)
        bytes = size
        hash = h.hex
    }

    /// `path` made absolute against the current folder and standardised: a session records where its
    /// files are, so that it can be opened from any folder (a cluster task starts in another one).
    public static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return (full as NSString).standardizingPath
    }

    /// Same content (the path may differ: files move).
    public func sameContent(as other: FileIdentity) -> Bool { bytes == other.bytes && hash == other.hash }

    /// The file to use for this identity (`what`, e.g. "model", recorded in `record`): `override` when
    /// the user gave one, which must hold the same content; else the recorded path, which must still
    /// be there with the same content. Each refusal is one line that ends with `hint`, how to point
    /// at the file (e.g. "give it with --model FILE").
    public func locate(override: String?, what: String, record: String, hint: String) throws -> String {
        if let override {
            guard try FileIdentity(path: override).sameContent(as: self) else {
                throw LinstoryError(.mismatch, file: override, "is not the \(what) this session was made with (\(path), \(bytes) bytes, hash \(hash))")
            }
            return override
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw LinstoryError(.notFound, file: record, "the \(what) this session was made with is no longer at \(path) (moved?): \(hint)")
        }
        guard try FileIdentity(path: path).sameContent(as: self) else {
            throw LinstoryError(.mismatch, file: record, "the \(what) at \(path) has changed since this session was made: \(hint)")
        }
        return path
    }
}
