/// What the allow-listed globals do when a pickle calls them (REDUCE), instantiates them (NEWOBJ),
/// sets their state (BUILD) or names a storage (BINPERSID). Each is a few lines of Swift that build a
/// plain value; none runs anything from the file.
extension PickleMachine {
    private func allowed(_ v: PickleValue) -> PickleGlobal? {
        guard case .global(let g)? = object(v) else { return nil }
        return g
    }

    private func int(_ v: PickleValue, _ what: String) throws -> Int {
        guard case .int(let i) = v else { throw fail(.corrupt, "gives \(describe(v)) where \(what) must be an int") }
        return i
    }

    private func ints(_ v: PickleValue, _ what: String) throws -> [Int] {
        let items: [PickleValue]
        switch object(v) {
        case .tuple(let t)?, .list(let t)?: items = t
        default: throw fail(.corrupt, "gives \(describe(v)) where \(what) must be a tuple of ints")
        }
        return try items.map { try int($0, what) }
    }

    /// REDUCE: `callable(*args)` for the allow-listed callables.
    mutating func call(_ callable: PickleValue, _ argsValue: PickleValue) throws -> PickleValue {
        guard let g = allowed(callable) else { throw fail(.unsupported, "calls \(describe(callable)), which is not an allowed function") }
        let args = try tupleItems(argsValue, "the arguments of '\(g.qualifiedName)'")
        func expect(_ counts: ClosedRange<Int>) throws {
            guard counts.contains(args.count) else {
                throw fail(.corrupt, "calls '\(g.qualifiedName)' with \(args.count) arguments")
            }
        }
        switch g {
        case .orderedDict, .easyDict:
            try expect(0...1)
            return add(.dict(try dictionary(from: args.first)))
        case .namespace:
            try expect(0...0)
            return add(.instance(PickleInstance(className: g.qualifiedName, state: .none)))
        case .builtinSet, .builtinFrozenSet:
            try expect(0...1)
            guard let source = args.first else { return add(.set([])) }
            switch object(source) {
            case .list(let items)?, .tuple(let items)?, .set(let items)?:
                try budget.spend(items.count, name: name)
                return add(.set(items))
            default: throw fail(.corrupt, "builds a set from \(describe(source))")
            }
        case .codecsEncode:
            try expect(1...2)
            guard case .string(let text) = args[0] else { throw fail(.corrupt, "encodes \(describe(args[0])) with _codecs.encode") }
            if args.count == 2 { guard case .string("latin1") = args[1] else { throw fail(.unsupported, "encodes with an encoding other than latin1") } }
            var out: [UInt8] = []
            for scalar in text.unicodeScalars {
                guard scalar.value < 256 else { throw fail(.corrupt, "encodes a character beyond latin1") }
                out.append(UInt8(scalar.value))
            }
            try budget.spend(out.count, name: name)
            return .bytes(out[...])
        case .copyregReconstructor:
            try expect(3...3)
            guard allowed(args[1]) == .builtinObject else { throw fail(.unsupported, "reconstructs an object on a base other than 'object'") }
            return try instantiate(args[0], add(.tuple([])))
        case .reconstructPersistentObject:
            try expect(1...1)
            guard case .dict(let meta)? = object(args[0]) else { throw fail(.corrupt, "reconstructs a persistent object from \(describe(args[0]))") }
            guard case .string("class")? = meta["type"] else {
                throw fail(.unsupported, "reconstructs a persistent object whose type is not 'class'")
            }
            guard case .string(let className)? = meta["class_name"] else {
                throw fail(.corrupt, "reconstructs a persistent object without a class name")
            }
            // meta["module_src"] holds NVIDIA's source code: deliberately never read.
            return add(.instance(PickleInstance(className: className, state: meta["state"] ?? .none)))
        case .rebuildTensor, .rebuildTensorV2:
            try expect(g == .rebuildTensor ? 4...4 : 6...7)
            guard case .object(let s) = args[0], case .storage(let storage) = objects[s] else {
                throw fail(.corrupt, "rebuilds a tensor from \(describe(args[0])) instead of a storage")
            }
            let offset = try int(args[1], "a tensor's storage offset")
            let shape = try ints(args[2], "a tensor's size")
            let strides = try ints(args[3], "a tensor's stride")
            let t = try TorchTensorReference.checked(
                storage: s, storageCount: storage.count, offset: offset, shape: shape, strides: strides, fail: { fail(.corrupt, "has a \($0)") })
            return add(.tensor(t))
        case .rebuildParameter, .rebuildParameterWithState:
            try expect(g == .rebuildParameter ? 3...3 : 4...4)
            guard case .tensor? = object(args[0]) else { throw fail(.corrupt, "makes a parameter of \(describe(args[0]))") }
            return args[0]
        case .rebuildFromTypeV2:
            try expect(4...4)
            guard let inner = allowed(args[0]),
                  [.rebuildTensor, .rebuildTensorV2, .rebuildParameter, .rebuildParameterWithState].contains(inner)
            else { throw fail(.corrupt, "rebuilds a tensor subclass with \(describe(args[0]))") }
            guard allowed(args[1]) == .tensorClass else { throw fail(.unsupported, "rebuilds a tensor as \(describe(args[1]))") }
            return try call(args[0], args[2])
        case .loadFromBytes:
            try expect(1...1)
            guard case .bytes(let stream) = args[0] else { throw fail(.corrupt, "loads a storage from \(describe(args[0]))") }
            try budget.spend(stream.count, name: name)
            let storage = try TorchLegacyStream.readStorage(stream, name: name, budget: budget)
            return add(.storage(storage))
        case .numpyScalar:
            try expect(1...2)
            guard case .numpyDType(let dtype)? = object(args[0]) else { throw fail(.corrupt, "makes a numpy scalar of \(describe(args[0]))") }
            guard args.count == 2, case .bytes(let raw) = args[1] else { throw fail(.corrupt, "makes a numpy scalar without its bytes") }
            return try numpyScalar(dtype, Array(raw))
        case .numpyDType:
            try expect(1...3)
            guard case .string(let descr) = args[0] else { throw fail(.corrupt, "makes a numpy dtype of \(describe(args[0]))") }
            return add(.numpyDType(NumpyDType(descr: descr)))
        case .numpyReconstruct:
            try expect(3...3)
            guard allowed(args[0]) == .numpyNDArray else { throw fail(.unsupported, "reconstructs \(describe(args[0])) as a numpy array") }
            return add(.ndarray(NumpyArrayValue()))
        case .tensorClass, .storageClass, .builtinObject, .numpyNDArray:
            throw fail(.unsupported, "calls '\(g.qualifiedName)', which linstory only accepts as a type")
        }
    }

    /// NEWOBJ: `cls.__new__(cls, *args)` for the classes that may be instantiated.
    mutating func instantiate(_ cls: PickleValue, _ argsValue: PickleValue) throws -> PickleValue {
        guard let g = allowed(cls) else { throw fail(.unsupported, "instantiates \(describe(cls)), which is not an allowed class") }
        _ = try tupleItems(argsValue, "the arguments of '\(g.qualifiedName)'")
        switch g {
        case .orderedDict, .easyDict: return add(.dict(PickleDict()))
        case .namespace: return add(.instance(PickleInstance(className: g.qualifiedName, state: .none)))
        case .builtinSet: return add(.set([]))
        default: throw fail(.unsupported, "instantiates '\(g.qualifiedName)', which linstory does not create")
        }
    }

    /// A dict's contents from OrderedDict's optional argument: a dict or a sequence of pairs.
    private mutating func dictionary(from source: PickleValue?) throws -> PickleDict {
        guard let source else { return PickleDict() }
        switch object(source) {
        case .dict(let d)?:
            try budget.spend(d.count, name: name)
            return d
        case .list(let pairs)?, .tuple(let pairs)?:
            try budget.spend(pairs.count, name: name)
            var d = PickleDict()
            for pair in pairs {
                // Pairs are tuples, or lists where Python 2's OrderedDict.__reduce__ wrote them (the
                // lpips package's weight files).
                switch object(pair) {
                case .tuple(let kv)? where kv.count == 2, .list(let kv)? where kv.count == 2: d.set(kv[0], kv[1])
                default: throw fail(.corrupt, "builds a dict from \(describe(pair))")
                }
            }
            return d
        default:
            throw fail(.corrupt, "builds a dict from \(describe(source))")
        }
    }

    /// BUILD: `obj.__setstate__(state)`.
    mutating func build(_ target: PickleValue, state: PickleValue) throws {
        guard case .object(let k) = target else { throw fail(.corrupt, "sets the state of \(target.kindName)") }
        switch objects[k] {
        case .dict:
            // A dict subclass's instance attributes (a state_dict's `_metadata`): not needed.
            break
        case .instance(var instance):
            instance.state = state
            objects[k] = .instance(instance)
        case .numpyDType(var dtype):
            // (version, byteorder, subarray, names, fields, elsize, alignment, flags)
            let items = try tupleItems(state, "a numpy dtype's state")
            if items.count > 1, case .string(let order) = items[1] { dtype.byteOrder = order }
            objects[k] = .numpyDType(dtype)
        case .ndarray(var array):
            // (version, shape, dtype, is_fortran, data)
            let items = try tupleItems(state, "a numpy array's state")
            guard items.count == 5 else { throw fail(.corrupt, "sets a numpy array's state from \(items.count) items") }
            array.shape = try ints(items[1], "a numpy array's shape")
            if case .numpyDType(let d)? = object(items[2]) { array.dtype = d }
            switch items[4] {
            case .bytes(let data): array.data = data
            case .string(let text): array.data = Array(text.utf8)[...]
            default: throw fail(.unsupported, "gives a numpy array \(describe(items[4])) as its data (object arrays are not read)")
            }
            objects[k] = .ndarray(array)
        default:
            throw fail(.corrupt, "sets the state of \(objects[k].kindName)")
        }
    }

    /// BINPERSID: torch.save names each storage by ('storage', StorageClass, key, location, numel) and,
    /// in the legacy format, a sixth item for views.
    mutating func persistentLoad(_ pid: PickleValue) throws -> PickleValue {
        guard persistence != .forbidden else { throw fail(.corrupt, "has a persistent id, which only torch.save files have") }
        let items = try tupleItems(pid, "a persistent id")
        guard items.count >= 5, case .string("storage") = items[0] else {
            throw fail(.corrupt, "has a persistent id that does not name a storage")
        }
        guard case .storageClass(let dtype)? = allowed(items[1]) else {
            throw fail(.unsupported, "names a storage of type \(describe(items[1]))")
        }
        let key: String
        switch items[2] {
        case .string(let s): key = s
        case .int(let i): key = String(i)
        default: throw fail(.corrupt, "names a storage by \(describe(items[2]))")
        }
        let count = try int(items[4], "a storage's size")
        guard count >= 0 else { throw fail(.corrupt, "gives storage '\(key)' a negative size") }
        switch persistence {
        case .forbidden, .zipArchive:
            guard items.count == 5 else { throw fail(.corrupt, "has a storage id of \(items.count) items") }
            return add(.storage(TorchStorage(dtype: dtype, count: count, source: .archive(key: key))))
        case .legacyStream:
            guard items.count == 6 else { throw fail(.corrupt, "has a legacy storage id of \(items.count) items") }
            if case .none = items[5] {
                return add(.storage(TorchStorage(dtype: dtype, count: count, source: .legacy(key: key, view: nil))))
            }
            // (view_key, offset, view_size): a view into the root storage `key`.
            let view = try tupleItems(items[5], "a storage view")
            guard view.count == 3 else { throw fail(.corrupt, "has a storage view of \(view.count) items") }
            let offset = try int(view[1], "a storage view's offset")
            let size = try int(view[2], "a storage view's size")
            guard offset >= 0, size >= 0, offset <= count, size <= count - offset else {
                throw fail(.corrupt, "has a view [\(offset), +\(size)) outside storage '\(key)' of \(count) elements")
            }
            return add(.storage(TorchStorage(dtype: dtype, count: size, source: .legacy(key: key, view: (offset, size)))))
        }
    }

    /// numpy.core.multiarray.scalar(dtype, bytes): the numbers NVIDIA's kwargs sometimes hold.
    private func numpyScalar(_ dtype: NumpyDType, _ raw: [UInt8]) throws -> PickleValue {
        var descr = dtype.descr
        var order = dtype.byteOrder
        if let first = descr.first, "<>|=".contains(first) {
            order = String(first)
            descr.removeFirst()
        }
        let little = order != ">"
        func bits(_ size: Int) throws -> UInt64 {
            guard raw.count == size else { throw fail(.corrupt, "has a numpy '\(dtype.descr)' scalar of \(raw.count) bytes") }
            let ordered = little ? raw : raw.reversed()
            return ordered.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        }
        switch descr {
        case "f8": return .float(Double(bitPattern: try bits(8)))
        case "f4": return .float(Double(Float(bitPattern: UInt32(try bits(4)))))
        case "f2": return .float(Double(SafeTensorsFile.floatFromHalfBits(UInt16(try bits(2)))))
        case "i8": return .int(Int(Int64(bitPattern: try bits(8))))
        case "i4": return .int(Int(Int32(truncatingIfNeeded: try bits(4))))
        case "i2": return .int(Int(Int16(truncatingIfNeeded: try bits(2))))
        case "i1": return .int(Int(Int8(truncatingIfNeeded: try bits(1))))
        case "u4", "u2", "u1": return .int(Int(try bits(Int(String(descr.dropFirst())) ?? 1)))
        case "u8":
            let v = try bits(8)
            guard v <= UInt64(Int.max) else { return .bigInt(withUnsafeBytes(of: v.littleEndian) { Array($0) } + [0]) }
            return .int(Int(v))
        case "b1", "?": return .bool(try bits(1) != 0)
        default: throw fail(.unsupported, "has a numpy scalar of dtype '\(dtype.descr)', which linstory does not read")
        }
    }
}
