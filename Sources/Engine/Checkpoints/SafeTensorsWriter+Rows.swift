extension SafeTensorsWriter {
    /// A safetensors file of F32 tensors that all have `rows` along their first axis, written a row at
    /// a time and in any order, so a session of 20,000 frames never holds them all in memory.
    ///
    /// The header is known up front (every shape is `[rows] + rowShape`), so it is written first and
    /// each row goes straight to its place with `pwrite`. The committed file is byte for byte what
    /// `SafeTensorsWriter.write` makes of the whole tensors; until `commit` it is a temporary file
    /// (see `AtomicFile.Stream`), removed if the writer is dropped.
    public final class Rows {
        private let path: String
        private let stream: AtomicFile.Stream
        private let rows: Int
        /// Per tensor: values in one row, and the file offset of row 0.
        private let places: [String: (rowCount: Int, start: Int)]
        private var written: [Bool]

        public init(path: String, tensors: [(name: String, rowShape: [Int])], rows: Int, metadata: [String: String]) throws {
            guard rows >= 0 else { throw LinstoryError(.invalidValue, file: path, "cannot write \(rows) rows") }
            for (name, rowShape) in tensors {
                guard rowShape.allSatisfy({ $0 >= 0 }), Self.byteCountFits([rows] + rowShape) else {
                    throw LinstoryError(
                        .invalidValue, file: path,
                        "tensor \(SafeTensorsJSON.quoted(name)) cannot have shape \([rows] + rowShape)")
                }
            }
            let layout = try SafeTensorsWriter.layout(
                tensors.map { (name: $0.name, shape: [rows] + $0.rowShape) }, metadata: metadata, path: path)
            var places: [String: (rowCount: Int, start: Int)] = [:]
            for placed in layout.tensors {
                places[placed.name] = (placed.shape.dropFirst().reduce(1, *), layout.head.count + placed.range.lowerBound)
            }
            self.path = path
            self.rows = rows
            self.places = places
            self.written = [Bool](repeating: false, count: rows)
            self.stream = try AtomicFile.Stream(path: path)
            try stream.append(layout.head)
        }

        /// Puts row `row` of every tensor in place; `values` holds exactly one row per tensor (any shape
        /// with the row's element count). Nothing is written unless all of them fit. Writing a row again
        /// replaces it.
        public func write(row: Int, _ values: [String: Tensor]) throws {
            guard (0..<rows).contains(row) else {
                throw LinstoryError(.invalidValue, file: path, "row \(row) is out of range (the file has \(rows) rows)")
            }
            if let stray = values.keys.sorted().first(where: { places[$0] == nil }) {
                throw LinstoryError(.invalidValue, file: path, "row \(row): no tensor named \(SafeTensorsJSON.quoted(stray))")
            }
            for (name, place) in places.sorted(by: { $0.key < $1.key }) {
                guard let value = values[name] else {
                    throw LinstoryError(.invalidValue, file: path, "row \(row): tensor \(SafeTensorsJSON.quoted(name)) is missing")
                }
                guard value.count == place.rowCount else {
                    throw LinstoryError(
                        .invalidValue, file: path,
                        "row \(row): tensor \(SafeTensorsJSON.quoted(name)) has \(value.count) values, "
                            + "but a row holds \(place.rowCount)")
                }
            }
            for (name, place) in places {
                guard let value = values[name] else { continue }
                let offset = place.start + row * place.rowCount * 4
                #if _endian(little)
                    try value.withUnsafeBufferPointer { try stream.write(UnsafeRawBufferPointer($0), at: offset) }
                #else
                    var bytes: [UInt8] = []
                    value.withUnsafeBufferPointer { LittleEndian.append($0, to: &bytes) }
                    try bytes.withUnsafeBytes { try stream.write($0, at: offset) }
                #endif
            }
            written[row] = true
        }

        /// Replaces `path` with the file, once every row has been written.
        public func commit() throws {
            if let missing = written.firstIndex(of: false) {
                throw LinstoryError(
                    .invalidValue, file: path,
                    "row \(missing) was never written (\(written.count(where: { !$0 })) of \(rows) missing)")
            }
            try stream.commit()
        }

        /// Whether a tensor of `shape` has a byte count that `Int` holds (offsets are computed in bytes).
        private static func byteCountFits(_ shape: [Int]) -> Bool {
            var total = 4
            for dim in shape {
                let (product, overflow) = total.multipliedReportingOverflow(by: dim)
                guard !overflow else { return false }
                total = product
            }
            return true
        }
    }
}
