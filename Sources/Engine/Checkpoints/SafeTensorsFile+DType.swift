extension SafeTensorsFile {
    /// The element types the safetensors format names. All of them can be listed and read as raw bytes;
    /// only the floating-point ones in `loadsAsFloat` become a `Tensor`. Sub-byte types (F4, F6_*) have
    /// no whole-byte size, so a header naming them is rejected as unknown.
    public enum DType: String, Sendable, CaseIterable {
        case bool = "BOOL"
        case u8 = "U8"
        case i8 = "I8"
        case f8E5M2 = "F8_E5M2"
        case f8E4M3 = "F8_E4M3"
        case f8E8M0 = "F8_E8M0"
        case i16 = "I16"
        case u16 = "U16"
        case f16 = "F16"
        case bf16 = "BF16"
        case i32 = "I32"
        case u32 = "U32"
        case f32 = "F32"
        case f64 = "F64"
        case i64 = "I64"
        case u64 = "U64"
        case c64 = "C64"

        /// Bytes per element.
        public var byteSize: Int {
            switch self {
            case .bool, .u8, .i8, .f8E5M2, .f8E4M3, .f8E8M0: 1
            case .i16, .u16, .f16, .bf16: 2
            case .i32, .u32, .f32: 4
            case .f64, .i64, .u64, .c64: 8
            }
        }

        /// Whether `tensor(_:)` converts this type to float32. FP8 is left out: its variants disagree on
        /// NaN and infinity, and no checkpoint we read uses it.
        public var loadsAsFloat: Bool {
            switch self {
            case .f16, .bf16, .f32, .f64: true
            default: false
            }
        }
    }
}

extension SafeTensorsFile {
    /// IEEE binary16 to binary32, by hand: `Float16` is missing on macOS/x86_64, and the conversion is
    /// exact (every half value is a float value), so there is nothing a library would do better.
    @inline(__always)
    static func floatFromHalfBits(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x03FF)
        if exponent == 0x1F {
            // Infinity or NaN; the NaN payload moves to the top of the float mantissa.
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        }
        if exponent == 0 {
            // Zero or subnormal: mantissa × 2⁻²⁴, which a float holds exactly.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        // Rebias the exponent from 15 to 127.
        return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
    }

    /// bfloat16 is the top half of a binary32, so widening is a shift.
    @inline(__always)
    static func floatFromBFloat16Bits(_ b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }
}
