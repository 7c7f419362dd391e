import Engine

/// torch.save files made in memory, laid out as torch lays them out, so that tests need no torch:
/// `{name: tensor, ..., key: OrderedDict(name -> float32 tensor), ...}` in the zip format (torch >= 1.6) or the legacy stream.
public enum TorchSaveWriter {
    public typealias StateDict = [(name: String, tensor: Tensor)]

    /// Storage keys are "0", "1", ... in the order the tensors are written.
    static func pickle(
        _ dicts: [(key: String, state: StateDict)], tensors: StateDict, legacy: Bool
    ) -> (pickle: [UInt8], storages: [[UInt8]]) {
        var w = PickleWriter()
        var storages: [[UInt8]] = []
        func tensor(_ tensor: Tensor) {
            w.global("torch._utils", "_rebuild_tensor_v2")
            w.mark()
            // persistent id ('storage', FloatStorage, key, 'cpu', numel[, None])
            w.mark()
            w.string("storage")
            w.global("torch", "FloatStorage")
            w.string(legacy ? "9400\(storages.count)" : String(storages.count))
            w.string("cpu")
            w.int(tensor.count)
            if legacy { w.none() }
            w.tuple()
            w.binPersId()
            w.int(0)
            w.intTuple(tensor.shape)
            var strides: [Int] = []
            var s = 1
            for d in tensor.shape.reversed() { strides.insert(s, at: 0); s *= d }
            w.intTuple(strides)
            w.bool(false)
            w.global("collections", "OrderedDict")
            w.emptyTuple()
            w.reduce()
            w.tuple()
            w.reduce()
            storages.append(tensor.withUnsafeBufferPointer { p in p.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } } })
        }
        w.emptyDict()
        w.mark()
        for (key, t) in tensors {
            w.string(key)
            tensor(t)
        }
        for (key, state) in dicts {
            w.string(key)
            w.global("collections", "OrderedDict")
            w.emptyTuple()
            w.reduce()
            w.mark()
            for (name, t) in state {
                w.string(name)
                tensor(t)
            }
            w.setItems()
            // state_dict()'s `_metadata` attribute, set by BUILD as torch does.
            w.emptyDict()
            w.mark()
            w.string("_metadata")
            w.global("collections", "OrderedDict")
            w.emptyTuple()
            w.reduce()
            w.setItems()
            w.build()
        }
        w.setItems()
        w.stop()
        return (w.bytes, storages)
    }

    /// The zip format: `archive/data.pkl`, `archive/byteorder`, `archive/data/<key>`, `archive/version`.
    /// `drop` leaves a storage out; `truncate` shortens one by that many bytes.
    public static func zip(
        _ dicts: [(key: String, state: StateDict)], tensors: StateDict = [], drop: Int? = nil,
        truncate: (index: Int, bytes: Int)? = nil
    ) throws -> [UInt8] {
        let (pickle, storages) = pickle(dicts, tensors: tensors, legacy: false)
        var files: [(name: String, bytes: [UInt8])] = [("archive/data.pkl", pickle), ("archive/byteorder", Array("little".utf8))]
        for (i, data) in storages.enumerated() where i != drop {
            var d = data
            if let t = truncate, t.index == i { d.removeLast(min(t.bytes, d.count)) }
            files.append(("archive/data/\(i)", d))
        }
        files.append(("archive/version", Array("3\n".utf8)))
        return try ZipArchive.archive(files)
    }

    /// The legacy stream: magic, protocol 1001, sys_info, the pickle, the key list, then each storage
    /// as an 8-byte element count and its bytes.
    public static func legacy(_ dicts: [(key: String, state: StateDict)], tensors: StateDict = []) -> [UInt8] {
        let (pickle, storages) = pickle(dicts, tensors: tensors, legacy: true)
        var out: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]
        var version = PickleWriter()
        version.int(1001)
        version.stop()
        out += version.bytes
        var info = PickleWriter()
        info.emptyDict()
        info.mark()
        info.string("protocol_version"); info.int(1001)
        info.string("little_endian"); info.bool(true)
        info.setItems()
        info.stop()
        out += info.bytes
        out += pickle
        var keys = PickleWriter()
        keys.emptyList()
        keys.mark()
        for i in storages.indices { keys.string("9400\(i)") }
        keys.appends()
        keys.stop()
        out += keys.bytes
        for data in storages {
            withUnsafeBytes(of: UInt64(data.count / 4).littleEndian) { out += $0 }
            out += data
        }
        return out
    }
}
