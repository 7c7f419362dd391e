/// A tensor as `torch._utils._rebuild_tensor_v2` describes it: a view of a storage (an object-table
/// index) with an element offset, a shape and strides. Checked when built so that every element it
/// names lies inside the storage's claimed count, and it has no more elements than that storage: a
/// reference can never make us allocate more than the storage's bytes, which the file must hold.
public struct TorchTensorReference: Sendable, Equatable {
    public let storage: Int
    public let offset: Int
    public let shape: [Int]
    public let strides: [Int]

    public var elementCount: Int { shape.reduce(1, *) }

    /// The reference, or `fail(reason)` thrown when the view does not fit `storageCount` elements.
    static func checked(
        storage: Int, storageCount: Int, offset: Int, shape: [Int], strides: [Int], fail: (String) -> LinstoryError
    ) throws -> TorchTensorReference {
        guard shape.count == strides.count else {
            throw fail("tensor has \(shape.count) sizes but \(strides.count) strides")
        }
        guard shape.count <= 64 else { throw fail("tensor has \(shape.count) dimensions") }
        guard offset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
            throw fail("tensor has a negative offset, size or stride (\(offset), \(shape), \(strides))")
        }
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw fail("tensor of shape \(shape) has too many elements to count") }
            count = p
        }
        guard count <= storageCount else {
            throw fail("tensor of shape \(shape) has \(count) elements but its storage holds \(storageCount)")
        }
        if count > 0 {
            // The furthest element: offset + sum((size - 1) * stride), each step overflow-checked.
            var last = offset
            for (d, s) in zip(shape, strides) {
                let (step, o1) = (d - 1).multipliedReportingOverflow(by: s)
                let (sum, o2) = last.addingReportingOverflow(step)
                guard !o1, !o2 else { throw fail("tensor strides \(strides) overflow") }
                last = sum
            }
            guard last < storageCount else {
                throw fail(
                    "tensor of shape \(shape), strides \(strides) at offset \(offset) reaches element \(last) "
                        + "of a storage of \(storageCount)")
            }
        }
        return TorchTensorReference(storage: storage, offset: offset, shape: shape, strides: strides)
    }

    var isContiguous: Bool {
        var expected = 1
        for (d, s) in zip(shape, strides).reversed() {
            if d != 1 && s != expected { return false }
            expected *= d
        }
        return true
    }

    /// The float32 tensor from `bytes`, the whole storage (already checked to hold `storageCount`
    /// elements of `dtype`), decoding half, bfloat16 and double. Integer types are refused by the caller.
    func decode(_ bytes: UnsafeRawBufferPointer, dtype: TorchDType) -> Tensor {
        let size = dtype.byteSize
        @inline(__always) func element(_ index: Int) -> Float {
            let at = index * size
            switch dtype {
            case .float32: return Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
            case .float64: return Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))))
            case .float16: return SafeTensorsFile.floatFromHalfBits(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
            case .bfloat16: return SafeTensorsFile.floatFromBFloat16Bits(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
            default: return 0
            }
        }
        return Tensor(shape: shape) { dst in
            if isContiguous {
                for i in 0..<dst.count { dst[i] = element(offset + i) }
                return
            }
            // Odometer over the indices, the last fastest. Wrapping arithmetic: a size-1 axis may carry
            // any stride, and stepping past it and back must not trap; every element read was checked.
            var index = [Int](repeating: 0, count: shape.count)
            var at = offset
            for i in 0..<dst.count {
                dst[i] = element(at)
                var axis = shape.count - 1
                while axis >= 0 {
                    index[axis] += 1
                    at = at &+ strides[axis]
                    if index[axis] < shape[axis] { break }
                    at = at &- strides[axis] &* shape[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}
