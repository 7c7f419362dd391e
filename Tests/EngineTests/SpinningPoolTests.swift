import Engine
import Foundation
import Synchronization
import Testing

/// The worker pool behind `Parallel.split`: every part runs exactly once per phase, whoever claims
/// it, across many back-to-back phases (the helper spinning), phases after the helpers slept, more
/// parts than cores, concurrent callers and a phase started inside a phase.
@Suite("SpinningPool runs every part exactly once")
struct SpinningPoolTests {
    /// Runs `phases` phases of `parts` parts on `pool`; each part adds its phase's token to its own
    /// slot. Returns the slots (each should hold the sum of the tokens).
    static func runPhases(_ pool: SpinningPool, phases: Int, parts: Int) -> (slots: [Int], expected: Int) {
        var slots = [Int](repeating: 0, count: parts)
        var expected = 0
        slots.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let out = slots
            for phase in 0..<phases {
                let token = phase * 7 + 1
                expected += token
                pool.run(parts: parts) { part in out[part] += token }
            }
        }
        return (slots, expected)
    }

    // Two parts or more: a phase of one part runs inline and starts no helper, so it proves nothing.
    @Test(arguments: [2, 3, 6])
    func backToBackPhases(parts: Int) {
        let pool = SpinningPool()
        let (slots, expected) = Self.runPhases(pool, phases: 20_000, parts: parts)
        #expect(slots == [Int](repeating: expected, count: parts))
    }

    /// The parts of a phase really run at once, on helpers: each part waits until every part of its
    /// phase has started, which only helpers can make happen (the caller is busy in its own part).
    /// Tiny parts would not show it: the caller can claim them all before a helper wakes, by design.
    /// The wait is bounded (5 s) so a pool that never hands out parts fails instead of hanging.
    @Test(arguments: [2, 3, 6])
    func helpersTakePartsAtTheSameTime(parts: Int) {
        let pool = SpinningPool()
        var together = 0
        for _ in 0..<100 {
            let started = Atomic<Int>(0)
            let allStarted = Atomic<Int>(0)
            pool.run(parts: parts) { _ in
                started.add(1, ordering: .sequentiallyConsistent)
                let deadline = ContinuousClock.now + .seconds(5)
                while started.load(ordering: .sequentiallyConsistent) < parts && ContinuousClock.now < deadline { sched_yield() }
                if started.load(ordering: .sequentiallyConsistent) == parts { allStarted.add(1, ordering: .relaxed) }
            }
            if allStarted.load(ordering: .relaxed) == parts { together += 1 } else { break }
        }
        #expect(together == 100, "only \(together) of 100 phases ran their \(parts) parts at once")
    }

    @Test func phasesAfterTheHelpersSlept() throws {
        let pool = SpinningPool()
        for _ in 0..<3 {
            let (slots, expected) = Self.runPhases(pool, phases: 50, parts: 3)
            #expect(slots == [Int](repeating: expected, count: 3))
            Thread.sleep(forTimeInterval: 0.05)  // past the spin limit: the helpers block
        }
    }

    @Test func concurrentCallersShareOnePool() async {
        let pool = SpinningPool()
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let (slots, expected) = Self.runPhases(pool, phases: 5_000, parts: 2)
                    return slots == [expected, expected]
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == [true, true, true, true])
    }

    @Test func phaseInsideAPhase() {
        let pool = SpinningPool()
        let total = Atomic<Int>(0)
        for _ in 0..<500 {
            pool.run(parts: 2) { outer in
                pool.run(parts: 3) { inner in total.add(outer * 3 + inner + 1, ordering: .relaxed) }
            }
        }
        // Each outer phase adds (1+2+3) + (4+5+6) = 21.
        #expect(total.load(ordering: .relaxed) == 500 * 21)
    }

    @Test func splitCoversEveryIndexOnce() {
        var hits = [Int](repeating: 0, count: 1_000)
        hits.withUnsafeMutableBufferPointer { hits in
            nonisolated(unsafe) let out = hits
            for count in [0, 1, 5, 9, 100, 1_000] {
                // Three parts whatever the machine's thread count, so the boundaries are really cut.
                Parallel.split(count, granule: 9, maxParts: 3) { _, range in for i in range { out[i] += 1 } }
            }
        }
        // Index i is inside every count > i.
        let expected = (0..<1_000).map { i in [0, 1, 5, 9, 100, 1_000].filter { $0 > i }.count }
        #expect(hits == expected)
    }
}
