/// A raw float buffer owned by a workspace: allocated once, reused every step, freed with its owner.
///
/// Unlike `Tensor` it has reference semantics on purpose: layers write into their workspace's
/// buffers in place. Never hand one to another thread while it is being written.
final class Buffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 1))
    }

    func zero() { pointer.update(repeating: 0, count: count) }

    deinit { pointer.deallocate() }
}
