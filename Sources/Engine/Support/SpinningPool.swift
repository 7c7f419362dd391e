import Dispatch
import Foundation
import Synchronization

/// Helper threads for `Parallel.split` that wait for the next phase by spinning for a while before
/// they sleep. A batch-1 forward+backward of the bundled model is ~100 phases of ~0.1 ms each: with
/// GCD's workers asleep between phases, each phase paid a futex wake-up, and the helper often
/// arrived after the caller had done half the work alone.
///
/// Parts are claimed from one atomic ticket, so a helper that is late (asleep, descheduled) costs
/// nothing: the caller claims the parts no one has taken. A second caller while a phase runs (the
/// UI rendering beside the engine, or a phase started inside a phase) gets GCD instead. Helpers
/// live as long as the process (the engine uses one shared pool).
public final class SpinningPool: @unchecked Sendable {
    public static let shared = SpinningPool()

    /// Loads of the ticket a helper makes before it sleeps (a few hundred microseconds): longer than
    /// the gaps between the phases of one step, short enough to leave an idle UI idle.
    static let spinLimit = 1 << 18

    /// [generation: 32 bits | parts: 16 bits | next part: 16 bits]; a part is claimable while
    /// next < parts, and claiming is a compare-and-swap, so a stale helper can never take a part of a
    /// phase it has not seen published.
    private let ticket = Atomic<UInt64>(0)
    /// Parts of the current phase not yet finished.
    private let pending = Atomic<Int>(0)
    /// Whether a caller owns the pool.
    private let busy = Atomic<Bool>(false)
    private var helpers: [Helper] = []
    /// The current phase's body; written only while no part is claimable.
    nonisolated(unsafe) private var body: ((Int) -> Void)?

    public init() {}

    private final class Helper: @unchecked Sendable {
        let sleeping = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    /// Runs body(part) for part in 0..<parts, on the caller and up to parts - 1 helpers; returns
    /// when all are done.
    public func run(parts: Int, _ body: (Int) -> Void) {
        precondition(parts >= 1 && parts < 1 << 16)
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            withoutActuallyEscaping(body) { body in
                nonisolated(unsafe) let work = body
                DispatchQueue.concurrentPerform(iterations: parts) { work($0) }
            }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        while helpers.count < parts - 1 { startHelper() }
        withoutActuallyEscaping(body) { body in
            self.body = body
            pending.store(parts, ordering: .relaxed)
            let generation = (ticket.load(ordering: .relaxed) >> 32) &+ 1
            ticket.store((generation << 32) | UInt64(parts) << 16, ordering: .sequentiallyConsistent)
            for helper in helpers.prefix(parts - 1) where helper.sleeping.exchange(false, ordering: .sequentiallyConsistent) {
                helper.wake.signal()
            }
            while claimAndRun() {}
            while pending.load(ordering: .acquiring) > 0 {}
            self.body = nil
        }
    }

    /// Claims one part of the published phase and runs it; false when none is left.
    private func claimAndRun() -> Bool {
        var t = ticket.load(ordering: .acquiring)
        while true {
            let parts = (t >> 16) & 0xffff, next = t & 0xffff
            guard next < parts else { return false }
            let (exchanged, original) = ticket.compareExchange(expected: t, desired: t + 1, ordering: .acquiringAndReleasing)
            if exchanged {
                body!(Int(next))
                pending.subtract(1, ordering: .releasing)
                return true
            }
            t = original
        }
    }

    private func claimable() -> Bool {
        let t = ticket.load(ordering: .sequentiallyConsistent)
        return t & 0xffff < (t >> 16) & 0xffff
    }

    private func startHelper() {
        let helper = Helper()
        helpers.append(helper)
        let thread = Thread { [self] in
            while true {
                var spins = 0
                while !claimable() {
                    spins += 1
                    guard spins >= Self.spinLimit else { continue }
                    helper.sleeping.store(true, ordering: .sequentiallyConsistent)
                    // Published after we said we sleep: whoever clears the flag owns the wake-up.
                    if claimable(), helper.sleeping.exchange(false, ordering: .sequentiallyConsistent) { break }
                    helper.wake.wait()
                    spins = 0
                }
                while claimAndRun() {}
            }
        }
        thread.name = "linstory-worker"
        thread.start()
    }
}
