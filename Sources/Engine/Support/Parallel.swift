import Foundation

/// The engine's one level of parallelism: each phase of a layer splits its work into `threads`
/// contiguous parts and runs them at once on `SpinningPool`. OpenBLAS is kept single-threaded (each
/// part calls it on its own rows), so BLAS threads never spin against ours on the machine's few cores.
public enum Parallel {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var _threads: Int = {
        if let text = ProcessInfo.processInfo.environment["LINSTORY_THREADS"], let n = Int(text), n >= 1 { return n }
        return ProcessInfo.processInfo.activeProcessorCount
    }()

    /// Worker count for every parallel phase (default: $LINSTORY_THREADS, else the active processor count).
    public static var threads: Int {
        get { lock.lock(); defer { lock.unlock() }; return _threads }
        set { lock.lock(); _threads = max(1, newValue); lock.unlock() }
    }

    /// Runs body(part, range) for up to `maxParts` (default `threads`) contiguous pieces of 0..<count
    /// (fewer when count is small). `granule` keeps every boundary a multiple of it (e.g. 9 rows per
    /// output channel). A caller that gives `maxParts` owns its split: a workspace passes the worker
    /// count it was made for, so a later change of `threads` never changes how its work is cut (nor,
    /// with it, the bits it computes).
    @inline(__always)
    public static func split(_ count: Int, granule: Int = 1, maxParts: Int? = nil, _ body: (Int, Range<Int>) -> Void) {
        let units = (count + granule - 1) / granule
        let parts = min(maxParts ?? threads, units)
        if parts <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        SpinningPool.shared.run(parts: parts) { part in
            let lo = min(count, units * part / parts * granule)
            let hi = min(count, units * (part + 1) / parts * granule)
            if lo < hi { body(part, lo..<hi) }
        }
    }
}
