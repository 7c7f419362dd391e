import Foundation

/// The export thread's last note for the status bar.
final class ExportStatus: @unchecked Sendable {
    private let lock = NSLock()
    private var note: String?

    func set(_ text: String) {
        lock.lock()
        note = text
        lock.unlock()
    }

    /// The note, once.
    func take() -> String? {
        lock.lock()
        defer { lock.unlock() }
        let n = note
        note = nil
        return n
    }
}
