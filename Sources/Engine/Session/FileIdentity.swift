import Foundation

/// Enough of a file to tell whether a session was made from it: path, size and a content hash
/// (FNV-1a 64 of the first and last MiB and the size; whole files are not read, videos are big).
public struct FileIdentity: Sendable, Codable, Equatable {
    public var path: String
    public var bytes: Int
    public var hash: String

    public init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        guard let handle = try? FileHandle(forReadingFrom: url) else { throw LinstoryError(file: path, "cannot read the file") }
        defer { try? handle.close() }
        let size = Int((try? handle.seekToEnd()) ?? 0)
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ data: Data) { for b in data { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
        try? handle.seek(toOffset: 0)
        mix((try? handle.read(upToCount: 1 << 20)) ?? Data())
        if size > 2 << 20 {
            try? handle.seek(toOffset: UInt64(size - (1 << 20)))
            mix((try? handle.read(upToCount: 1 << 20)) ?? Data())
        }
        withUnsafeBytes(of: UInt64(size).littleEndian) { mix(Data($0)) }
        self.path = (path as NSString).standardizingPath
        bytes = size
        hash = String(format: "%016llx", h)
    }

    /// Same content (the path may differ: files move).
    public func sameContent(as other: FileIdentity) -> Bool { bytes == other.bytes && hash == other.hash }
}
