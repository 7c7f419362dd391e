import Foundation

/// Float scratch memory that a loss keeps between calls, so the optimiser's steady state allocates
/// nothing: the buffer grows to the largest request and stays.
///
/// A loss is a `Sendable` value and its copies share one `LossScratch`. Only one call at a time uses
/// the shared buffer; a call that finds it busy (another thread evaluating the same loss) works in a
/// private buffer instead, so sharing a loss across threads is safe, merely not allocation-free.
final class LossScratch: @unchecked Sendable {
    private let lock = NSLock()
    private var pointer: UnsafeMutablePointer<Float>?
    private var capacity = 0

    init() {}

    /// Lends `count` floats (contents unspecified: callers initialise what they read). The pointer
    /// must not escape `body`.
    func withBuffer<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        if lock.try() {
            defer { lock.unlock() }
            if capacity < count {
                pointer?.deallocate()
                pointer = Self.allocate(count)
                capacity = count
            }
            return try body(pointer!)
        }
        let temporary = Self.allocate(count)
        defer { temporary.deallocate() }
        return try body(temporary)
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        return raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 1))
    }

    deinit { pointer?.deallocate() }
}
