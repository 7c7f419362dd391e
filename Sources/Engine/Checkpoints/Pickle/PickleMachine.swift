/// A restricted unpickler: runs the pickle opcodes of protocols 0 to 5 that checkpoints use and builds
/// plain values (`PickleValue`, `PickleObject`). It never imports, looks up or calls anything a pickle
/// names: globals must be on the allow-list in `PickleGlobal`, and each is built by Swift code of ours.
///
/// Everything is bounded by the input: every read is checked against the end, the value stack, memo
/// and object table grow by at most one entry per opcode byte, MARK nesting stops at `maxDepth`, and
/// copies made on behalf of memo references are charged to a `PickleBudget`. The machine is a loop,
/// never recursion, so no input can exhaust the call stack.
struct PickleMachine {
    /// Where persistent ids (BINPERSID) may come from: only torch.save files have them, naming storages.
    enum Persistence { case forbidden, zipArchive, legacyStream }

    static let maxDepth = 1000
    static let maxMemo = 1 << 24

    let name: String
    let bytes: ArraySlice<UInt8>
    let persistence: Persistence
    /// Whether `torch.storage._load_from_bytes` may open a nested legacy stream (not inside one).
    let allowsNestedStreams: Bool
    let budget: PickleBudget
    private(set) var pos: Int
    var objects: [PickleObject] = []
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    init(bytes: ArraySlice<UInt8>, from start: Int? = nil, name: String, persistence: Persistence,
         allowsNestedStreams: Bool, budget: PickleBudget) {
        self.bytes = bytes
        self.pos = start ?? bytes.startIndex
        self.name = name
        self.persistence = persistence
        self.allowsNestedStreams = allowsNestedStreams
        self.budget = budget
    }

    func fail(_ kind: LinstoryError.Kind, _ problem: String) -> LinstoryError {
        LinstoryError(kind, file: name, "pickle \(problem) (byte \(pos - 1))")
    }

    // MARK: - Input

    private mutating func byte() throws -> UInt8 {
        guard pos < bytes.endIndex else { throw fail(.corrupt, "ends early (truncated file?)") }
        defer { pos += 1 }
        return bytes[pos]
    }

    /// The next `count` bytes as a range of `bytes`, checked.
    private mutating func take(_ count: Int) throws -> Range<Int> {
        guard count >= 0, count <= bytes.endIndex - pos else {
            throw fail(.corrupt, "claims \(count) bytes but \(bytes.endIndex - pos) remain (truncated file?)")
        }
        defer { pos += count }
        return pos..<pos + count
    }

    private mutating func uint(_ size: Int) throws -> UInt64 {
        let r = try take(size)
        var v: UInt64 = 0
        for (i, b) in bytes[r].enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }

    /// A length field as an Int, refused when it exceeds what remains (checked again by `take`).
    private mutating func length(_ size: Int) throws -> Int {
        let v = try uint(size)
        guard v <= UInt64(bytes.endIndex - pos) else {
            throw fail(.corrupt, "claims \(v) bytes but \(bytes.endIndex - pos) remain (truncated file?)")
        }
        return Int(v)
    }

    /// A protocol-0 text argument up to its newline, at most `limit` bytes.
    private mutating func line(limit: Int = 1024) throws -> String {
        let start = pos
        while true {
            guard pos < bytes.endIndex, pos - start <= limit else { throw fail(.corrupt, "has an unterminated text argument") }
            if bytes[pos] == 0x0A { break }
            pos += 1
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        pos += 1
        return text
    }

    private func utf8(_ r: Range<Int>) throws -> String {
        guard let s = String(validating: bytes[r], as: UTF8.self) else { throw fail(.corrupt, "has a string that is not UTF-8") }
        return s
    }

    // MARK: - Stack

    private mutating func push(_ v: PickleValue) { stack.append(v) }

    private mutating func pop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let v = stack.popLast() else { throw fail(.corrupt, "pops an empty stack") }
        return v
    }

    private func top() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let v = stack.last else { throw fail(.corrupt, "reads an empty stack") }
        return v
    }

    /// The items pushed since the last MARK, removing them and the mark.
    private mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw fail(.corrupt, "has no MARK to close") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    mutating func add(_ object: PickleObject) -> PickleValue {
        objects.append(object)
        return .object(objects.count - 1)
    }

    func object(_ v: PickleValue) -> PickleObject? {
        guard case .object(let k) = v else { return nil }
        return objects[k]
    }

    /// A tuple's items (REDUCE's arguments and the like).
    func tupleItems(_ v: PickleValue, _ what: String) throws -> [PickleValue] {
        guard case .tuple(let items)? = object(v) else { throw fail(.corrupt, "gives \(describe(v)) where \(what) must be a tuple") }
        return items
    }

    func describe(_ v: PickleValue) -> String { object(v)?.kindName ?? v.kindName }

    private mutating func memoize(_ index: Int, _ v: PickleValue) throws {
        guard index >= 0, memo.count < Self.maxMemo || memo[index] != nil else { throw fail(.tooLarge, "memo grows past \(Self.maxMemo) entries") }
        memo[index] = v
    }

    private func recall(_ index: Int) throws -> PickleValue {
        guard let v = memo[index] else { throw fail(.corrupt, "refers to memo entry \(index), which was never stored") }
        return v
    }

    // MARK: - In-place container updates

    /// Swaps the entry out so that the array inside is uniquely referenced and grows in place: without
    /// this every APPEND would copy the whole list.
    private mutating func update(_ target: PickleValue, _ what: String, _ body: (inout PickleObject) throws -> Bool) throws {
        guard case .object(let k) = target else { throw fail(.corrupt, "\(what) into \(target.kindName)") }
        var entry = PickleObject.tuple([])
        swap(&entry, &objects[k])
        defer { swap(&entry, &objects[k]) }
        let kind = entry.kindName
        guard try body(&entry) else { throw fail(.corrupt, "\(what) into \(kind)") }
    }

    private mutating func append(_ items: [PickleValue], to target: PickleValue) throws {
        try update(target, "appends") { entry in
            guard case .list(var list) = entry else { return false }
            entry = .tuple([])
            list.append(contentsOf: items)
            entry = .list(list)
            return true
        }
    }

    private mutating func setItems(_ items: [PickleValue], in target: PickleValue) throws {
        guard items.count % 2 == 0 else { throw fail(.corrupt, "sets items from an odd number of values") }
        try update(target, "sets items") { entry in
            guard case .dict(var dict) = entry else { return false }
            entry = .tuple([])
            var i = 0
            while i < items.count {
                dict.set(items[i], items[i + 1])
                i += 2
            }
            entry = .dict(dict)
            return true
        }
    }

    private mutating func addItems(_ items: [PickleValue], to target: PickleValue) throws {
        try update(target, "adds items") { entry in
            guard case .set(var set) = entry else { return false }
            entry = .tuple([])
            set.append(contentsOf: items)
            entry = .set(set)
            return true
        }
    }

    // MARK: - The loop

    /// Runs one pickle to its STOP and returns its value; `pos` is left just after the STOP.
    mutating func load() throws -> PickleValue {
        while true {
            let op = try byte()
            switch op {
            case 0x80:  // PROTO
                let p = try byte()
                guard p <= 5 else { throw fail(.unsupported, "uses protocol \(p) (5 is the newest)") }
            case 0x95:  // FRAME: only a length hint for buffered readers; checked and otherwise ignored
                _ = try length(8)
            case 0x2E:  // STOP
                let v = try pop()
                guard marks.isEmpty else { throw fail(.corrupt, "stops with an unclosed MARK") }
                return v
            case 0x28:  // MARK
                guard marks.count < Self.maxDepth else { throw fail(.tooLarge, "nests deeper than \(Self.maxDepth) levels") }
                marks.append(stack.count)
            case 0x30: _ = try pop()  // POP
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x32: push(try top())  // DUP

            // Constants and numbers.
            case 0x4E: push(.none)
            case 0x88: push(.bool(true))
            case 0x89: push(.bool(false))
            case 0x4A: push(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
            case 0x4B: push(.int(Int(try byte())))  // BININT1
            case 0x4D: push(.int(Int(try uint(2))))  // BININT2
            case 0x8A: push(try long(try length(1)))  // LONG1
            case 0x8B: push(try long(try length(4)))  // LONG4
            case 0x47: push(.float(Double(bitPattern: (try uint(8)).byteSwapped)))  // BINFLOAT, big-endian
            case 0x49:  // INT (text); "00"/"01" are protocol 0's False/True
                let text = try line(limit: 64)
                if text == "00" { push(.bool(false)) } else if text == "01" { push(.bool(true)) } else {
                    guard let v = Int(text) else { throw fail(.corrupt, "has a malformed INT") }
                    push(.int(v))
                }
            case 0x4C:  // LONG (text)
                var text = try line(limit: 64)
                if text.hasSuffix("L") { text.removeLast() }
                guard let v = Int(text) else { throw fail(.corrupt, "has a LONG too large or malformed") }
                push(.int(v))
            case 0x46:  // FLOAT (text)
                guard let v = Double(try line(limit: 64)) else { throw fail(.corrupt, "has a malformed FLOAT") }
                push(.float(v))

            // Strings and bytes.
            case 0x58: push(.string(try utf8(take(length(4)))))  // BINUNICODE
            case 0x8C: push(.string(try utf8(take(length(1)))))  // SHORT_BINUNICODE
            case 0x8D: push(.string(try utf8(take(length(8)))))  // BINUNICODE8
            case 0x54, 0x55:  // BINSTRING, SHORT_BINSTRING: Python 2 str; torch reads them as UTF-8
                let r = try take(length(op == 0x54 ? 4 : 1))
                push(.string(String(decoding: bytes[r], as: UTF8.self)))
            case 0x42: push(.bytes(bytes[try take(length(4))]))  // BINBYTES
            case 0x43: push(.bytes(bytes[try take(length(1))]))  // SHORT_BINBYTES
            case 0x8E, 0x96: push(.bytes(bytes[try take(length(8))]))  // BINBYTES8, BYTEARRAY8

            // Containers.
            case 0x29: push(add(.tuple([])))  // EMPTY_TUPLE
            case 0x74: push(add(.tuple(try popMark())))  // TUPLE
            case 0x85, 0x86, 0x87:  // TUPLE1..3
                var items: [PickleValue] = []
                for _ in 0..<Int(op - 0x84) { items.insert(try pop(), at: 0) }
                push(add(.tuple(items)))
            case 0x5D: push(add(.list([])))  // EMPTY_LIST
            case 0x6C: push(add(.list(try popMark())))  // LIST
            case 0x61:  // APPEND
                let v = try pop()
                try append([v], to: try top())
            case 0x65:  // APPENDS
                let items = try popMark()
                try append(items, to: try top())
            case 0x7D: push(add(.dict(PickleDict())))  // EMPTY_DICT
            case 0x64:  // DICT
                let items = try popMark()
                let d = add(.dict(PickleDict()))
                try setItems(items, in: d)
                push(d)
            case 0x73:  // SETITEM
                let v = try pop()
                let k = try pop()
                try setItems([k, v], in: try top())
            case 0x75:  // SETITEMS
                let items = try popMark()
                try setItems(items, in: try top())
            case 0x8F: push(add(.set([])))  // EMPTY_SET
            case 0x90:  // ADDITEMS
                let items = try popMark()
                try addItems(items, to: try top())
            case 0x91: push(add(.set(try popMark())))  // FROZENSET

            // Memo.
            case 0x94: try memoize(memo.count, try top())  // MEMOIZE
            case 0x71: try memoize(Int(try byte()), try top())  // BINPUT
            case 0x72: try memoize(Int(try uint(4)), try top())  // LONG_BINPUT
            case 0x70:  // PUT (text)
                guard let i = Int(try line(limit: 32)) else { throw fail(.corrupt, "has a malformed PUT") }
                try memoize(i, try top())
            case 0x68: push(try recall(Int(try byte())))  // BINGET
            case 0x6A: push(try recall(Int(try uint(4))))  // LONG_BINGET
            case 0x67:  // GET (text)
                guard let i = Int(try line(limit: 32)) else { throw fail(.corrupt, "has a malformed GET") }
                push(try recall(i))

            // Globals, calls and objects: the allow-list is enforced here.
            case 0x63:  // GLOBAL
                let module = try line()
                let name = try line()
                push(try global(module, name))
            case 0x93:  // STACK_GLOBAL
                let n = try pop()
                let m = try pop()
                guard case .string(let module) = m, case .string(let name) = n else {
                    throw fail(.corrupt, "names a global with \(describe(m)) and \(describe(n)) instead of strings")
                }
                push(try global(module, name))
            case 0x52:  // REDUCE
                let args = try pop()
                let callable = try pop()
                push(try call(callable, args))
            case 0x81:  // NEWOBJ
                let args = try pop()
                let cls = try pop()
                push(try instantiate(cls, args))
            case 0x92:  // NEWOBJ_EX
                _ = try pop()  // kwargs: none of the allowed classes takes any
                let args = try pop()
                let cls = try pop()
                push(try instantiate(cls, args))
            case 0x62:  // BUILD
                let state = try pop()
                try build(try top(), state: state)
            case 0x51:  // BINPERSID
                push(try persistentLoad(try pop()))
            case 0x50:  // PERSID (text)
                throw fail(.unsupported, "has a text persistent id, which no torch checkpoint uses")
            case 0x82, 0x83, 0x84:
                throw fail(.unsupported, "uses the copyreg extension registry (EXT\(op == 0x82 ? 1 : op == 0x83 ? 2 : 4)), which linstory does not load")
            case 0x69, 0x6F:
                throw fail(.unsupported, "instantiates a class with INST/OBJ, which linstory does not load")
            case 0x97, 0x98:
                throw fail(.unsupported, "uses out-of-band buffers (protocol 5), which checkpoints do not use")
            default:
                throw fail(.corrupt, "has unknown opcode 0x\(String(op, radix: 16, uppercase: true))")
            }
        }
    }

    /// LONG1/LONG4: little-endian two's complement; up to 8 bytes fits an Int.
    private mutating func long(_ count: Int) throws -> PickleValue {
        let r = try take(count)
        guard count > 0 else { return .int(0) }
        guard count <= 8 else { return .bigInt(Array(bytes[r])) }
        var v: UInt64 = 0
        for (i, b) in bytes[r].enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        let shift = UInt64(64 - 8 * count)
        return .int(Int(Int64(bitPattern: v << shift) >> Int64(shift)))
    }

    private mutating func global(_ module: String, _ name: String) throws -> PickleValue {
        guard let g = PickleGlobal.resolve(module: module, name: name) else {
            throw fail(.unsupported, "refers to the global '\(module).\(name)', which linstory refuses to load (only tensors, storages and plain values are read)")
        }
        if g == .loadFromBytes && !allowsNestedStreams {
            throw fail(.unsupported, "refers to 'torch.storage._load_from_bytes' where no nested storage stream may appear")
        }
        return add(.global(g))
    }
}
