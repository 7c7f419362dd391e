import Foundation

/// A value with a revision that every change bumps.
protocol Revisioned: Sendable {
    var revision: Int { get set }
}

/// A value one thread publishes and the UI thread reads whenever it likes, without waiting: every
/// change bumps the revision, so the reader, polling each pass, copies the value only when it moved.
final class PublishedSnapshot<Value: Revisioned>: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Value

    init(_ value: Value) { current = value }

    var snapshot: Value {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    /// The revision alone: cheap, no copy of the value.
    var revision: Int {
        lock.lock()
        defer { lock.unlock() }
        return current.revision
    }

    func update(_ change: (inout Value) -> Void) {
        lock.lock()
        change(&current)
        current.revision += 1
        lock.unlock()
    }
}
