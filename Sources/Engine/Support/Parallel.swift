import Foundation

/// The engine's one level of parallelism: each phase of a layer splits its work into up to `threads`
/// contiguous parts and runs them at once on `SpinningPool`. OpenBLAS is kept single-threaded (each
/// part calls it on its own rows), so BLAS threads never spin against ours on the machine's few cores.
/// Work whose arithmetic depends on how it is cut (GEMMs, sums) goes through `forEachPiece`, whose
/// pieces do not depend on the worker count, so results are the same bits with any `threads`.
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

    /// Runs body(part, index, piece) for each of `pieces` near-equal pieces of 0..<count (fewer when
    /// count is small; index counts them from 0), every boundary a multiple of `granule`; up to
    /// `maxParts` workers each take a contiguous run of pieces (part is the worker's index, for its
    /// scratch). Where the pieces lie depends only on count, pieces and granule, never on the worker
    /// count: a phase that computes each piece on its own (a GEMM per piece, a partial sum per piece
    /// added in piece order) gives the same bits with any number of workers. `split`'s parts follow
    /// the worker count, so only elementwise work may use it. (A GEMM's rounding may follow its shape:
    /// OpenBLAS picks its small-matrix and direct kernels by M N K.)
    /// `parity` 0 or 1 runs only the even or odd pieces (neighbours that write overlapping rows then
    /// never run at once; a caller runs both in turn).
    @inline(__always)
    public static func forEachPiece(
        _ count: Int, pieces: Int, granule: Int = 1, maxParts: Int, parity: Int? = nil,
        _ body: (_ part: Int, _ index: Int, _ piece: Range<Int>) -> Void
    ) {
        let units = (count + granule - 1) / granule
        let p = min(max(1, pieces), units)
        if p <= 0 { return }
        @inline(__always) func piece(_ i: Int) -> Range<Int> {
            min(count, units * i / p * granule)..<min(count, units * (i + 1) / p * granule)
        }
        let first = parity ?? 0
        let step = parity == nil ? 1 : 2
        let selected = first < p ? (p - first + step - 1) / step : 0
        if selected <= 0 { return }
        let parts = min(max(1, maxParts), selected)
        if parts <= 1 {
            for k in 0..<selected { body(0, first + k * step, piece(first + k * step)) }
            return
        }
        SpinningPool.shared.run(parts: parts) { part in
            for k in (selected * part / parts)..<(selected * (part + 1) / parts) { body(part, first + k * step, piece(first + k * step)) }
        }
    }

    /// The most units a piece of `units` cut into `pieces` holds (as `forEachPiece` cuts): what a
    /// piece's scratch must fit.
    public static func largestPiece(units: Int, pieces: Int) -> Int { max(1, (units + max(1, pieces) - 1) / max(1, pieces)) }

    /// How many pieces `forEachPiece` should cut `units` units into when a piece may hold at most
    /// `maxUnitsPerPiece` (a scratch budget): at least `quantum`, and a multiple of it so that 1, 2 or
    /// `quantum` workers get equal shares; never more than `units`. Independent of the worker count.
    public static func pieceCount(units: Int, maxUnitsPerPiece: Int = .max, quantum: Int) -> Int {
        guard units > 0 else { return 0 }
        let most = max(1, maxUnitsPerPiece)
        let byBudget = units / most + (units % most == 0 ? 0 : 1)
        let q = max(1, quantum)
        return min(units, (max(1, byBudget) + q - 1) / q * q)
    }
}
