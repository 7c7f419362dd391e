/// A value built by `PickleMachine`: Python's plain values, with every container or object held in the
/// machine's object table and named by its index there.
///
/// Indices rather than class references because a hostile pickle can make a list that holds itself or
/// share one object a million times: with indices neither a reference cycle (a leak) nor a deep tree of
/// references (a recursive `deinit` that overflows the stack) can ever exist.
public enum PickleValue: Sendable, Equatable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer too wide for `Int` (LONG1 / LONG4), little-endian two's complement as pickled.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    /// A slice of the file's own buffer: `bytes` values (often whole nested storages) are never copied.
    case bytes(ArraySlice<UInt8>)
    /// An entry of the object table (`TorchPickle.objects`).
    case object(Int)

    /// What Python would call the value's type, for error messages.
    var kindName: String {
        switch self {
        case .none: "None"
        case .bool: "a bool"
        case .int, .bigInt: "an int"
        case .float: "a float"
        case .string: "a str"
        case .bytes: "bytes"
        case .object: "an object"
        }
    }
}

/// A dict as pickled: keys and values in insertion order. A repeated key is kept (appending is O(1)
/// whatever the input does) and the last one wins on lookup, as it would in Python.
public struct PickleDict: Sendable, Equatable {
    public internal(set) var keys: [PickleValue] = []
    public internal(set) var values: [PickleValue] = []

    public var count: Int { keys.count }

    /// The value stored under the string `key`, the last one if it was set twice.
    public subscript(key: String) -> PickleValue? {
        var i = keys.count - 1
        while i >= 0 {
            if case .string(let k) = keys[i], k == key { return values[i] }
            i -= 1
        }
        return nil
    }

    mutating func set(_ key: PickleValue, _ value: PickleValue) {
        keys.append(key)
        values.append(value)
    }
}

/// An object that NVIDIA's persistence module or argparse pickled: only its class name and its state
/// are kept; no class is looked up or instantiated. NVIDIA's embedded `module_src` is dropped unread.
public struct PickleInstance: Sendable, Equatable {
    public let className: String
    /// The instance's attributes (normally a dict), `.none` when the pickle gave none.
    public internal(set) var state: PickleValue
}

/// A numpy `dtype` as pickled: `numpy.dtype('f8', False, True)` and then its state tuple.
public struct NumpyDType: Sendable, Equatable {
    public let descr: String
    /// '<' little, '>' big, '|' not applicable, '=' native; set by the BUILD that follows.
    public internal(set) var byteOrder: String = "="
}

/// A numpy array as pickled by `numpy.core.multiarray._reconstruct` and BUILD: kept as bytes, never
/// interpreted (no checkpoint we read needs one, but snapshots may carry one in their settings).
public struct NumpyArrayValue: Sendable, Equatable {
    public internal(set) var shape: [Int] = []
    public internal(set) var dtype: NumpyDType?
    public internal(set) var data: ArraySlice<UInt8> = []
}

/// What an object-table entry holds.
public enum PickleObject: Sendable, Equatable {
    case list([PickleValue])
    case tuple([PickleValue])
    case dict(PickleDict)
    case set([PickleValue])
    /// An allow-listed global, as pushed by GLOBAL / STACK_GLOBAL, before it is called.
    case global(PickleGlobal)
    case instance(PickleInstance)
    case storage(TorchStorage)
    case tensor(TorchTensorReference)
    case numpyDType(NumpyDType)
    case ndarray(NumpyArrayValue)

    var kindName: String {
        switch self {
        case .list: "a list"
        case .tuple: "a tuple"
        case .dict: "a dict"
        case .set: "a set"
        case .global(let g): "the global '\(g.qualifiedName)'"
        case .instance(let i): "an instance of '\(i.className)'"
        case .storage: "a torch storage"
        case .tensor: "a tensor"
        case .numpyDType: "a numpy dtype"
        case .ndarray: "a numpy array"
        }
    }
}
