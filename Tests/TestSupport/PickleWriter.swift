/// Pickle opcodes written by hand: hostile pickles for the restricted unpickler's tests, and the
/// `data.pkl` of torch.save files made in memory (`TorchSaveWriter`). Protocol 2 by default, as
/// torch.save writes.
public struct PickleWriter {
    public private(set) var bytes: [UInt8]

    public init(protocol version: UInt8 = 2) { bytes = [0x80, version] }

    /// Raw bytes, for opcodes this writer has no method for.
    public mutating func raw(_ b: [UInt8]) { bytes += b }

    public mutating func mark() { bytes.append(0x28) }
    public mutating func stop() { bytes.append(0x2E) }
    public mutating func none() { bytes.append(0x4E) }
    public mutating func bool(_ v: Bool) { bytes.append(v ? 0x88 : 0x89) }
    public mutating func tuple() { bytes.append(0x74) }
    public mutating func emptyTuple() { bytes.append(0x29) }
    public mutating func emptyDict() { bytes.append(0x7D) }
    public mutating func emptyList() { bytes.append(0x5D) }
    public mutating func setItems() { bytes.append(0x75) }
    public mutating func appends() { bytes.append(0x65) }
    public mutating func reduce() { bytes.append(0x52) }
    public mutating func build() { bytes.append(0x62) }
    public mutating func binPersId() { bytes.append(0x51) }

    public mutating func int(_ v: Int) {
        if let small = Int32(exactly: v) {
            bytes.append(0x4A)
            withUnsafeBytes(of: small.littleEndian) { bytes += $0 }
        } else {
            bytes += [0x8A, 8]
            withUnsafeBytes(of: Int64(v).littleEndian) { bytes += $0 }
        }
    }

    public mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        bytes.append(0x58)
        withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { bytes += $0 }
        bytes += utf8
    }

    public mutating func binBytes(_ b: [UInt8]) {
        bytes.append(0x42)
        withUnsafeBytes(of: UInt32(b.count).littleEndian) { bytes += $0 }
        bytes += b
    }

    /// GLOBAL 'module\nname\n', as protocol 2 writes globals.
    public mutating func global(_ module: String, _ name: String) {
        bytes.append(0x63)
        bytes += Array("\(module)\n\(name)\n".utf8)
    }

    /// A tuple of ints (MARK ... TUPLE).
    public mutating func intTuple(_ values: [Int]) {
        mark()
        for v in values { int(v) }
        tuple()
    }

    public mutating func binPut(_ index: UInt8) { bytes += [0x71, index] }
    public mutating func binGet(_ index: UInt8) { bytes += [0x68, index] }
}
