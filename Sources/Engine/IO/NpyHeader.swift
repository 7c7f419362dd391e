import Foundation

/// The `.npy` header: a Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 18, 512), }`.
///
/// Parsed by a tiny recursive reader for exactly the literals numpy writes (strings, ints,
/// True/False/None, tuples, lists, dicts), never evaluated, with a depth limit so a crafted
/// header cannot recurse without bound.
struct NpyHeader {
    let descr: String
    let fortranOrder: Bool
    let shape: [Int]

    init(_ text: ArraySlice<UInt8>, name: String) throws {
        var reader = LiteralReader(bytes: Array(text))
        let value: Literal
        do {
            value = try reader.value(depth: 0)
            reader.skipSpace()
            // numpy pads with spaces and ends with '\n'; old writers padded with NULs.
            while reader.position < reader.bytes.count, reader.bytes[reader.position] == 0 { reader.position += 1 }
            guard reader.position == reader.bytes.count else { throw LiteralReader.Failure(what: "text after the dict") }
        } catch let failure as LiteralReader.Failure {
            throw LinstoryError(.corrupt, file: name, ".npy header is not a valid dict literal (\(failure.what))")
        }
        let expected = "the expected {'descr', 'fortran_order', 'shape'} dict"
        guard case .dict(let pairs) = value, pairs.count == 3,
              Set(pairs.map(\.0)) == ["descr", "fortran_order", "shape"]
        else { throw LinstoryError(.corrupt, file: name, ".npy header is not \(expected)") }
        let items = Dictionary(pairs, uniquingKeysWith: { a, _ in a })

        guard case .string(let descr)? = items["descr"] else {
            throw LinstoryError(.unsupported, file: name, "unsupported dtype (structured or non-string 'descr' in the .npy header)")
        }
        guard case .bool(let fortran)? = items["fortran_order"] else {
            throw LinstoryError(.corrupt, file: name, ".npy header 'fortran_order' is not True or False")
        }
        guard case .tuple(let dims)? = items["shape"] else {
            throw LinstoryError(.corrupt, file: name, ".npy header 'shape' is not a tuple")
        }
        var shape = [Int]()
        for d in dims {
            guard case .int(let n) = d else { throw LinstoryError(.corrupt, file: name, ".npy header 'shape' holds a non-integer") }
            guard let n, n >= 0 else {
                throw LinstoryError(.corrupt, file: name, ".npy header 'shape' has a negative or too large dimension")
            }
            shape.append(n)
        }
        self.descr = descr
        self.fortranOrder = fortran
        self.shape = shape
    }

    /// A shape written as Python writes a tuple: `()`, `(5,)`, `(2, 3)`.
    static func tuple(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    indirect enum Literal {
        case string(String)
        case int(Int?)  // nil: did not fit in Int
        case bool(Bool)
        case none
        case tuple([Literal])
        case list([Literal])
        case dict([(String, Literal)])
    }

    struct LiteralReader {
        struct Failure: Error { let what: String }

        let bytes: [UInt8]
        var position = 0
        private static let maxDepth = 16

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        private mutating func peek() throws -> UInt8 {
            skipSpace()
            guard position < bytes.count else { throw Failure(what: "it ends early") }
            return bytes[position]
        }

        mutating func value(depth: Int) throws -> Literal {
            guard depth < Self.maxDepth else { throw Failure(what: "nested too deeply") }
            let c = try peek()
            switch c {
            case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "("): return .tuple(try sequence(close: UInt8(ascii: ")"), depth: depth))
            case UInt8(ascii: "["): return .list(try sequence(close: UInt8(ascii: "]"), depth: depth))
            case UInt8(ascii: "{"):
                position += 1
                var pairs = [(String, Literal)]()
                while try peek() != UInt8(ascii: "}") {
                    guard try peek() == UInt8(ascii: "'") || bytes[position] == UInt8(ascii: "\"") else {
                        throw Failure(what: "a key is not a string")
                    }
                    let key = try string()
                    guard try peek() == UInt8(ascii: ":") else { throw Failure(what: "expected ':'") }
                    position += 1
                    pairs.append((key, try value(depth: depth + 1)))
                    guard try peek() == UInt8(ascii: ",") || bytes[position] == UInt8(ascii: "}") else {
                        throw Failure(what: "expected ',' or '}'")
                    }
                    if bytes[position] == UInt8(ascii: ",") { position += 1 }
                }
                position += 1
                return .dict(pairs)
            case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0") ... UInt8(ascii: "9"):
                return .int(try integer())
            default:
                for (word, literal) in [("True", Literal.bool(true)), ("False", .bool(false)), ("None", .none)]
                where bytes[position...].starts(with: word.utf8) {
                    position += word.utf8.count
                    return literal
                }
                throw Failure(what: "unexpected character at offset \(position)")
            }
        }

        private mutating func sequence(close: UInt8, depth: Int) throws -> [Literal] {
            position += 1
            var items = [Literal]()
            while try peek() != close {
                items.append(try value(depth: depth + 1))
                guard try peek() == UInt8(ascii: ",") || bytes[position] == close else {
                    throw Failure(what: "expected ',' in a sequence")
                }
                if bytes[position] == UInt8(ascii: ",") { position += 1 }
            }
            position += 1
            return items
        }

        private mutating func string() throws -> String {
            let quote = bytes[position]
            position += 1
            var out = [UInt8]()
            while position < bytes.count, bytes[position] != quote {
                // Escapes only matter for field names numpy never gives a plain array.
                if bytes[position] == UInt8(ascii: "\\") { position += 1 }
                if position < bytes.count { out.append(bytes[position]) }
                position += 1
            }
            guard position < bytes.count else { throw Failure(what: "unterminated string") }
            position += 1
            return String(decoding: out, as: UTF8.self)
        }

        private mutating func integer() throws -> Int? {
            var negative = false
            if bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "+") {
                negative = bytes[position] == UInt8(ascii: "-")
                position += 1
            }
            var value: Int? = 0
            var digits = 0
            while position < bytes.count, (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains(bytes[position]) {
                let digit = Int(bytes[position] - UInt8(ascii: "0"))
                if let v = value {
                    let (m, o1) = v.multipliedReportingOverflow(by: 10)
                    let (s, o2) = m.addingReportingOverflow(digit)
                    value = o1 || o2 ? nil : s
                }
                digits += 1
                position += 1
            }
            guard digits > 0 else { throw Failure(what: "a sign without digits") }
            // Python 2 era numpy wrote long integers as `3L`.
            if position < bytes.count, bytes[position] == UInt8(ascii: "L") || bytes[position] == UInt8(ascii: "l") {
                position += 1
            }
            return negative ? value.map { -$0 } : value
        }
    }
}
