/// The JSON a safetensors header holds, parsed by hand rather than with Foundation so that integers stay
/// exact (a `2.0` or `1e3` shape entry must not pass as an integer), duplicate keys are caught (two
/// tensors with one name would be silently merged), and hostile nesting cannot exhaust the stack.
enum SafeTensorsJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number written with digits only (and an optional minus) that fits in `Int`.
    case integer(Int)
    /// Any other number: fractions, exponents, integers out of range. Kept as written, for messages.
    case otherNumber(String)
    case string(String)
    case array([SafeTensorsJSON])
    case object([String: SafeTensorsJSON])

    /// What a message calls this kind of value ("expected an array, found a string").
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .otherNumber: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    struct ParseError: Error, Equatable {
        let problem: String
        /// Byte offset within the JSON text.
        let offset: Int
    }

    /// Parses one JSON value that fills `bytes`, apart from surrounding whitespace.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ParseError) -> SafeTensorsJSON {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        if parser.index < bytes.count { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    /// `s` as a JSON string literal, quotes included. Other non-ASCII stays raw UTF-8, as serde_json
    /// writes it.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            // C0 and C1 controls are escaped even where JSON would allow them raw: names from hostile
            // headers end up in error messages, and must not drive the user's terminal.
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension SafeTensorsJSON {
    /// A recursive-descent parser. Every read is guarded by `index < bytes.count` because the Engine is
    /// built with -Ounchecked, where a stray subscript would read past the buffer instead of trapping.
    fileprivate struct Parser {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        /// Far deeper than a header needs (three levels), far shallower than the stack allows.
        static let maxDepth = 64

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        func error(_ problem: String) -> ParseError { ParseError(problem: problem, offset: index) }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let b = current, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { index += 1 }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(ParseError) {
            guard current == byte else { throw error("expected \(what)") }
            index += 1
        }

        mutating func value(depth: Int) throws(ParseError) -> SafeTensorsJSON {
            guard depth < Self.maxDepth else { throw error("nested more than \(Self.maxDepth) levels deep") }
            guard let b = current else { throw error("unexpected end of text") }
            switch b {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("unexpected character")
            }
        }

        mutating func literal(_ word: String) throws(ParseError) {
            for byte in word.utf8 {
                guard current == byte else { throw error("invalid literal") }
                index += 1
            }
        }

        mutating func object(depth: Int) throws(ParseError) -> SafeTensorsJSON {
            index += 1  // "{"
            var members: [String: SafeTensorsJSON] = [:]
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                let keyOffset = index
                guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let key = try string()
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':'")
                skipWhitespace()
                let member = try value(depth: depth + 1)
                guard members.updateValue(member, forKey: key) == nil else {
                    throw ParseError(problem: "duplicate key \(SafeTensorsJSON.quoted(key))", offset: keyOffset)
                }
                skipWhitespace()
                if current == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(UInt8(ascii: "}"), "',' or '}'")
                return .object(members)
            }
        }

        mutating func array(depth: Int) throws(ParseError) -> SafeTensorsJSON {
            index += 1  // "["
            var elements: [SafeTensorsJSON] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                elements.append(try value(depth: depth + 1))
                skipWhitespace()
                if current == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(UInt8(ascii: "]"), "',' or ']'")
                return .array(elements)
            }
        }

        mutating func number() throws(ParseError) -> SafeTensorsJSON {
            let start = index
            if current == UInt8(ascii: "-") { index += 1 }
            guard let first = current, isDigit(first) else { throw error("expected a digit") }
            index += 1
            // JSON forbids leading zeros ("012"), so after a "0" no digit may follow.
            if first != UInt8(ascii: "0") { skipDigits() }
            var isInteger = true
            if current == UInt8(ascii: ".") {
                isInteger = false
                index += 1
                guard let d = current, isDigit(d) else { throw error("expected a digit after '.'") }
                skipDigits()
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard let d = current, isDigit(d) else { throw error("expected a digit in the exponent") }
                skipDigits()
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if isInteger, let n = Int(text) { return .integer(n) }
            return .otherNumber(text)
        }

        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

        mutating func skipDigits() {
            while let b = current, isDigit(b) { index += 1 }
        }

        mutating func string() throws(ParseError) -> String {
            let start = index
            index += 1  // opening quote
            var utf8: [UInt8] = []
            while true {
                guard let b = current else { throw error("unterminated string") }
                index += 1
                switch b {
                case UInt8(ascii: "\""):
                    guard let s = String(validating: utf8, as: UTF8.self) else {
                        throw ParseError(problem: "string is not valid UTF-8", offset: start)
                    }
                    return s
                case UInt8(ascii: "\\"):
                    try escape(into: &utf8)
                case 0..<0x20:
                    index -= 1
                    throw error("control character in string")
                default:
                    utf8.append(b)
                }
            }
        }

        mutating func escape(into utf8: inout [UInt8]) throws(ParseError) {
            guard let b = current else { throw error("unterminated escape") }
            index += 1
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(b)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var code = UInt32(try hex4())
                if (0xD800..<0xDC00).contains(code) {
                    // A high surrogate must be followed by an escaped low one; together they name one scalar.
                    guard current == UInt8(ascii: "\\") else { throw error("unpaired surrogate") }
                    index += 1
                    guard current == UInt8(ascii: "u") else { throw error("unpaired surrogate") }
                    index += 1
                    let low = UInt32(try hex4())
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("unpaired surrogate") }
                utf8.append(contentsOf: String(Character(scalar)).utf8)
            default:
                index -= 1
                throw error("invalid escape")
            }
        }

        mutating func hex4() throws(ParseError) -> UInt16 {
            var value: UInt16 = 0
            for _ in 0..<4 {
                guard let b = current else { throw error("unterminated \\u escape") }
                let digit: UInt8
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
                default: throw error("invalid \\u escape")
                }
                value = value << 4 | UInt16(digit)
                index += 1
            }
            return value
        }
    }
}
