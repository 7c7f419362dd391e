extension NpzArchive {
    /// An `.npz` of one float32 array, `KEY.npy` of shape `[rows] + rowShape`, written a row at a time in
    /// order, so the latents of a 20,000-frame session are never in memory together.
    ///
    /// The member is stored, as `np.savez` stores it, so its size is known up front and only its CRC-32
    /// waits for the data: it is accumulated as rows arrive and the local header is rewritten with it at
    /// `commit`, before the central directory and end record are appended. The committed file is byte for
    /// byte what `NpzArchive.write([(key, whole)], to:)` writes; until then it is a temporary file (see
    /// `AtomicFile.Stream`), removed if the writer is dropped.
    public final class RowWriter {
        private let path: String
        private let stream: AtomicFile.Stream
        private var member: ZipArchive.StoredMember
        private let rowShape: [Int]
        /// Values in one row.
        private let rowCount: Int
        private let rows: Int
        private var appended = 0
        /// CRC-32 of the member's bytes so far (the `.npy` header, then each row).
        private var crc: UInt32

        public init(path: String, key: String, rowShape: [Int], rows: Int) throws {
            let shape = [rows] + rowShape
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw LinstoryError(.invalidValue, file: path, "cannot write an array of shape \(shape)")
            }
            let npyHeader = NpyArray.header(for: shape)
            // A size past Int is past 4 GiB too: let the archive's own check refuse it, in its words.
            let size = Self.memberSize(header: npyHeader.count, shape: shape) ?? Int.max
            do {
                member = try ZipArchive.StoredMember(name: key + ".npy", size: size, offset: 0)
                // The directory would follow the member; refuse now, not after writing gigabytes.
                _ = try ZipArchive.centralDirectory(
                    member.centralEntry, entries: 1, at: member.localHeader.count + size)
            } catch let error as LinstoryError {
                throw error.about(file: path)
            }
            self.path = path
            self.rowShape = rowShape
            self.rowCount = rowShape.reduce(1, *)
            self.rows = rows
            self.crc = npyHeader.withUnsafeBytes { ZipArchive.crc32($0) }
            self.stream = try AtomicFile.Stream(path: path)
            // The CRC is 0 until commit rewrites this header in place.
            try stream.append(member.localHeader)
            try stream.append(npyHeader)
        }

        /// Appends the next row: `rowShape`'s element count, in any shape.
        public func append(_ row: Tensor) throws {
            guard appended < rows else {
                throw LinstoryError(.invalidValue, file: path, "already has all \(rows) rows; cannot append another")
            }
            guard row.count == rowCount else {
                throw LinstoryError(
                    .invalidValue, file: path,
                    "row \(appended) has \(row.count) values, but a row of shape \(rowShape) holds \(rowCount)")
            }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(rowCount * 4)
            row.withUnsafeBufferPointer { LittleEndian.append($0, to: &bytes) }
            try bytes.withUnsafeBytes { raw in
                try stream.append(raw)
                crc = ZipArchive.crc32(raw, continuing: crc)
            }
            appended += 1
        }

        /// Replaces `path` with the archive, once all `rows` rows have been appended; `then` are
        /// small arrays stored after the streamed one, in order (an export's frame indices): the file
        /// is what `NpzArchive.write([(key, whole)] + then, to:)` writes.
        public func commit(then extra: [(String, Tensor)] = []) throws {
            guard appended == rows else {
                throw LinstoryError(.invalidValue, file: path, "only \(appended) of \(rows) rows were appended")
            }
            member.crc = crc
            try member.localHeader.withUnsafeBytes { try stream.write($0, at: 0) }
            var central = member.centralEntry
            let tail: [UInt8]
            do {
                for (key, tensor) in extra {
                    let bytes = NpyArray.encode(tensor)
                    guard key + ".npy" != String(decoding: member.name, as: UTF8.self) else {
                        throw LinstoryError(.invalidValue, "cannot write a zip archive with two entries of the same name")
                    }
                    var next = try ZipArchive.StoredMember(name: key + ".npy", size: bytes.count, offset: stream.size)
                    next.crc = bytes.withUnsafeBytes { ZipArchive.crc32($0) }
                    try stream.append(next.localHeader)
                    try stream.append(bytes)
                    central += next.centralEntry
                }
                tail = try ZipArchive.centralDirectory(central, entries: 1 + extra.count, at: stream.size)
            } catch let error as LinstoryError {
                throw error.about(file: path)
            }
            try stream.append(tail)
            try stream.commit()
        }

        /// Bytes of the `.npy` member: its header, then 4 bytes per value; nil past `Int`.
        private static func memberSize(header: Int, shape: [Int]) -> Int? {
            var data = 4
            for dim in shape {
                let (product, overflow) = data.multipliedReportingOverflow(by: dim)
                guard !overflow else { return nil }
                data = product
            }
            let (total, overflow) = data.addingReportingOverflow(header)
            return overflow ? nil : total
        }
    }
}
