/// File formats linstory writes (.npy, safetensors) store float32 little-endian whatever the machine.
enum LittleEndian {
    /// Appends `values` as little-endian float32 bytes.
    static func append(_ values: UnsafeBufferPointer<Float>, to bytes: inout [UInt8]) {
        #if _endian(little)
            bytes.append(contentsOf: UnsafeRawBufferPointer(values))
        #else
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        #endif
    }
}
