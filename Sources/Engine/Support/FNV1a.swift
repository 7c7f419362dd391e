/// 64-bit FNV-1a, the one hash every fingerprint in linstory uses (files, mapping networks, models a
/// scene was tuned from, a tuned scene's pivots): bytes in, 16 hex digits out. Multi-byte values go
/// in little-endian, a byte at a time.
public struct FNV1a: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    @inline(__always) public mutating func byte(_ b: UInt8) {
        value = (value ^ UInt64(b)) &* 0x100_0000_01b3
    }

    public mutating func bytes<S: Sequence>(_ s: S) where S.Element == UInt8 { for b in s { byte(b) } }

    @inline(__always) public mutating func word32(_ v: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { byte(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }

    public mutating func word64(_ v: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { byte(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    /// Every value's bits.
    public mutating func floats(_ t: Tensor) {
        t.withUnsafeBufferPointer { p in for v in p { word32(v.bitPattern) } }
    }

    /// The hash as 16 hex digits.
    public var hex: String {
        let h = String(value, radix: 16)
        return String(repeating: "0", count: 16 - h.count) + h
    }
}
