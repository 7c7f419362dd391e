/// A dense float32 tensor: contiguous, row-major (the last index varies fastest), NCHW for images.
///
/// A value type with copy-on-write storage. Hot loops borrow the buffer through
/// `withUnsafeBufferPointer` / `withUnsafeMutableBufferPointer` and must not let the pointer escape.
public struct Tensor: Sendable, Equatable {
    public private(set) var shape: [Int]
    @usableFromInline var storage: TensorStorage

    public var count: Int { storage.count }
    public var rank: Int { shape.count }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.storage = TensorStorage(count: shape.reduce(1, *))
    }

    public init(shape: [Int], repeating value: Float) {
        self.init(zeros: shape)
        if value != 0 { withUnsafeMutableBufferPointer { $0.update(repeating: value) } }
    }

    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.init(zeros: shape)
        withUnsafeMutableBufferPointer { dst in _ = dst.initialize(from: values) }
    }

    /// A tensor filled by `body`, which receives the uninitialised (zeroed) buffer.
    public init(shape: [Int], filling body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        self.init(zeros: shape)
        try withUnsafeMutableBufferPointer(body)
    }

    public var scalars: [Float] { withUnsafeBufferPointer { Array($0) } }

    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: storage.count))
    }

    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// The same values under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        var t = self
        t.shape = newShape
        return t
    }

    public subscript(flat index: Int) -> Float {
        get { storage.pointer[index] }
        set { withUnsafeMutableBufferPointer { $0[index] = newValue } }
    }

    /// Rows `range` of the first dimension, copied.
    public func slice(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0])
        let inner = shape.dropFirst().reduce(1, *)
        var out = Tensor(zeros: [range.count] + shape.dropFirst())
        withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<(range.count * inner) { dst[i] = src[range.lowerBound * inner + i] }
            }
        }
        return out
    }

    /// Tensors of equal trailing shape stacked along a new or the first dimension.
    public static func concatenate(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty)
        let inner = Array(parts[0].shape.dropFirst())
        precondition(parts.allSatisfy { Array($0.shape.dropFirst()) == inner }, "mismatched shapes")
        let rows = parts.reduce(0) { $0 + $1.shape[0] }
        var out = Tensor(zeros: [rows] + inner)
        out.withUnsafeMutableBufferPointer { dst in
            var offset = 0
            for p in parts {
                p.withUnsafeBufferPointer { src in
                    for i in 0..<src.count { dst[offset + i] = src[i] }
                    offset += src.count
                }
            }
        }
        return out
    }

    public static func == (a: Tensor, b: Tensor) -> Bool {
        a.shape == b.shape && a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.elementsEqual(y) } }
    }
}

/// The heap buffer behind a `Tensor`. 64-byte aligned for vector loads.
@usableFromInline
final class TensorStorage: @unchecked Sendable {
    @usableFromInline let pointer: UnsafeMutablePointer<Float>
    @usableFromInline let count: Int

    init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 1))
    }

    @usableFromInline func copy() -> TensorStorage {
        let c = TensorStorage(count: count)
        c.pointer.update(from: pointer, count: count)
        return c
    }

    deinit { pointer.deallocate() }
}
