extension SafeTensorsFile {
    /// What a header says, already checked against the size of the file it came from.
    struct Header {
        var metadata: [String: String]
        var entries: [String: Entry]
        /// File offset of the data section.
        var dataStart: Int
    }

    /// Real headers are kilobytes; a length this large means a corrupt or foreign file, and trusting it
    /// would have the JSON parser chew through a whole checkpoint's weights.
    static let maxHeaderLength = 100_000_000

    /// Parses and checks the header at the start of `bytes`. `bytes` is the whole file, or, when
    /// `fileSize` is given, only its start (a reader that leaves the data on disk): at least the first
    /// `min(fileSize, 8)` bytes, and the whole header whenever its length fits the file. Offsets are
    /// checked against the file's size either way, so both readers refuse the same files.
    static func parseHeader(_ bytes: [UInt8], path: String, fileSize: Int? = nil) throws -> Header {
        func fail(_ kind: LinstoryError.Kind, _ problem: String) -> LinstoryError { LinstoryError(kind, file: path, problem) }
        let size = fileSize ?? bytes.count

        guard size >= 8, bytes.count >= 8 else {
            throw fail(.corrupt, "file is \(size) bytes, shorter than the 8-byte header length of a safetensors file")
        }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard length <= UInt64(maxHeaderLength) else {
            throw fail(.tooLarge, "header length \(length) is absurd (over 100 MB); not a safetensors file?")
        }
        guard length <= UInt64(size - 8) else {
            throw fail(.corrupt, "header length \(length) runs past the end of the \(size)-byte file")
        }
        let dataStart = 8 + Int(length)
        let dataSize = size - dataStart
        // Only a caller that read less than it should (or a file that shrank under it) gets here.
        guard bytes.count >= dataStart else {
            throw fail(.corrupt, "header is cut short: \(bytes.count) of its \(dataStart) bytes could be read")
        }

        let json: SafeTensorsJSON
        do {
            json = try bytes.withUnsafeBytes { file in
                try SafeTensorsJSON.parse(UnsafeRawBufferPointer(rebasing: file[8..<dataStart]))
            }
        } catch let error as SafeTensorsJSON.ParseError {
            throw fail(.corrupt, "header is not valid JSON: \(error.problem) at file offset \(8 + error.offset)")
        }
        guard case .object(let members) = json else {
            throw fail(.corrupt, "header is \(json.kindName), not a JSON object")
        }

        var header = Header(metadata: [:], entries: [:], dataStart: dataStart)
        // Sorted so that a file with several faults always reports the same one.
        for name in members.keys.sorted() {
            guard let value = members[name] else { continue }
            if name == "__metadata__" {
                header.metadata = try parseMetadata(value, fail: fail)
            } else {
                header.entries[name] = try parseEntry(name, value, dataSize: dataSize, fail: fail)
            }
        }
        try checkDisjoint(header.entries, fail: fail)
        return header
    }

    private static func parseMetadata(
        _ value: SafeTensorsJSON, fail: (LinstoryError.Kind, String) -> LinstoryError
    ) throws -> [String: String] {
        switch value {
        case .null:
            return [:]
        case .object(let members):
            var metadata: [String: String] = [:]
            for key in members.keys.sorted() {
                guard let value = members[key] else { continue }
                guard case .string(let text) = value else {
                    throw fail(
                        .corrupt, "__metadata__ value for \(SafeTensorsJSON.quoted(key)) is \(value.kindName), not a string")
                }
                metadata[key] = text
            }
            return metadata
        default:
            throw fail(.corrupt, "__metadata__ is \(value.kindName), not an object")
        }
    }

    private static func parseEntry(
        _ name: String, _ value: SafeTensorsJSON, dataSize: Int, fail outer: (LinstoryError.Kind, String) -> LinstoryError
    ) throws -> Entry {
        func fail(_ kind: LinstoryError.Kind, _ problem: String) -> LinstoryError {
            outer(kind, "tensor \(SafeTensorsJSON.quoted(name)): \(problem)")
        }
        guard case .object(let fields) = value else { throw fail(.corrupt, "entry is \(value.kindName), not an object") }
        func field(_ key: String) throws -> SafeTensorsJSON {
            guard let field = fields[key] else { throw fail(.corrupt, "missing \"\(key)\"") }
            return field
        }

        let dtypeField = try field("dtype")
        guard case .string(let dtypeName) = dtypeField else {
            throw fail(.corrupt, "\"dtype\" is \(dtypeField.kindName), not a string")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw fail(.unsupported, "unknown dtype \(SafeTensorsJSON.quoted(dtypeName))")
        }

        let shapeField = try field("shape")
        guard case .array(let dims) = shapeField else {
            throw fail(.corrupt, "\"shape\" is \(shapeField.kindName), not an array")
        }
        var shape: [Int] = []
        for (axis, dim) in dims.enumerated() {
            shape.append(try nonNegativeInteger(dim, "shape[\(axis)]", fail))
        }
        var elementCount = 1
        for dim in shape {
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw fail(.corrupt, "shape \(shape) has too many elements to count (overflow)") }
            elementCount = product
        }
        let (byteCount, overflow) = elementCount.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else {
            throw fail(.corrupt, "shape \(shape) of \(dtype.rawValue) has too many bytes to count (overflow)")
        }

        let offsetsField = try field("data_offsets")
        guard case .array(let offsets) = offsetsField else {
            throw fail(.corrupt, "\"data_offsets\" is \(offsetsField.kindName), not an array")
        }
        guard offsets.count == 2 else {
            throw fail(.corrupt, "\"data_offsets\" should be [begin, end] but has length \(offsets.count)")
        }
        let begin = try nonNegativeInteger(offsets[0], "data_offsets[0]", fail)
        let end = try nonNegativeInteger(offsets[1], "data_offsets[1]", fail)
        guard begin <= end else { throw fail(.corrupt, "data_offsets [\(begin), \(end)] end before they begin") }
        guard end <= dataSize else {
            throw fail(.corrupt, "data_offsets [\(begin), \(end)] run past the end of the \(dataSize)-byte data section")
        }
        guard end - begin == byteCount else {
            throw fail(
                .corrupt, "data_offsets [\(begin), \(end)] hold \(end - begin) bytes, but shape \(shape) of "
                    + "\(dtype.rawValue) needs \(byteCount)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    private static func nonNegativeInteger(
        _ value: SafeTensorsJSON, _ what: String, _ fail: (LinstoryError.Kind, String) -> LinstoryError
    ) throws -> Int {
        switch value {
        case .integer(let n) where n >= 0:
            return n
        case .integer(let n):
            throw fail(.corrupt, "\(what) is \(n), negative")
        case .otherNumber(let text) where text.allSatisfy({ $0 == "-" || $0.isASCII && $0.isNumber }):
            throw fail(.corrupt, "\(what) is \(text), out of range")
        case .otherNumber(let text):
            throw fail(.corrupt, "\(what) is \(text), not an integer")
        default:
            throw fail(.corrupt, "\(what) is \(value.kindName), not an integer")
        }
    }

    /// Two tensors sharing bytes would alias once loaded; no writer produces that, so it means corruption.
    private static func checkDisjoint(_ entries: [String: Entry], fail: (LinstoryError.Kind, String) -> LinstoryError) throws {
        let placed = entries.values
            .filter { !$0.byteRange.isEmpty }
            .sorted { ($0.byteRange.lowerBound, $0.name) < ($1.byteRange.lowerBound, $1.name) }
        // Sorted by start, a tensor overlaps an earlier one exactly when it starts before the furthest end
        // seen so far.
        var furthest: Entry? = nil
        for entry in placed {
            if let earlier = furthest, entry.byteRange.lowerBound < earlier.byteRange.upperBound {
                throw fail(
                    .corrupt, "tensors \(SafeTensorsJSON.quoted(earlier.name)) and \(SafeTensorsJSON.quoted(entry.name)) "
                        + "overlap (data_offsets [\(earlier.byteRange.lowerBound), \(earlier.byteRange.upperBound)] "
                        + "and [\(entry.byteRange.lowerBound), \(entry.byteRange.upperBound)])")
            }
            if furthest.map({ entry.byteRange.upperBound > $0.byteRange.upperBound }) ?? true { furthest = entry }
        }
    }
}
