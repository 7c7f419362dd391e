// How the discriminator's passes cut their work: into pieces fixed by the layer's shape, the batch
// and the scratch budget, never by the worker count, so that every GEMM has the same shape and every
// sum the same order with any number of workers (the same bits with 1 or 16 threads). Workers take
// contiguous runs of pieces on `SpinningPool`. (The same scheme as the synthesis workspace's.)

enum DiscriminatorPieces {
    /// Pieces are a multiple of this many (when there are that many units), so 1, 2 or 4 workers
    /// get equal shares.
    static let quantum = 4

    /// How many pieces `units` units are cut into when a piece may hold `maxUnitsPerPiece`: at least
    /// `quantum` and a multiple of it, never more than `units`.
    static func count(units: Int, maxUnitsPerPiece: Int = .max) -> Int {
        guard units > 0 else { return 0 }
        let most = max(1, maxUnitsPerPiece)
        let byBudget = units / most + (units % most == 0 ? 0 : 1)
        return min(units, (max(1, byBudget) + quantum - 1) / quantum * quantum)
    }

    /// Piece `i` of `pieces` of 0..<count, boundaries multiples of `granule`.
    @inline(__always)
    static func piece(_ i: Int, of pieces: Int, count: Int, granule: Int = 1) -> Range<Int> {
        let units = (count + granule - 1) / granule
        return min(count, units * i / pieces * granule)..<min(count, units * (i + 1) / pieces * granule)
    }

    /// The largest piece's unit count.
    static func largest(units: Int, pieces: Int) -> Int { max(1, (units + max(1, pieces) - 1) / max(1, pieces)) }

    /// body(part, range) for each piece of 0..<count (of `pieces`, see `count`), on up to `maxParts`
    /// workers; `parity` 0 or 1 runs only the even or odd pieces (neighbours that write overlapping
    /// rows then never run at once).
    @inline(__always)
    static func forEach(
        _ count: Int, pieces: Int, granule: Int = 1, maxParts: Int, parity: Int? = nil,
        _ body: (_ part: Int, _ piece: Range<Int>) -> Void
    ) {
        let units = (count + granule - 1) / granule
        let p = min(max(1, pieces), units)
        guard p > 0 else { return }
        let first = parity ?? 0
        let step = parity == nil ? 1 : 2
        let selected = first < p ? (p - first + step - 1) / step : 0
        guard selected > 0 else { return }
        let parts = min(max(1, maxParts), selected)
        if parts <= 1 {
            for k in 0..<selected { body(0, piece(first + k * step, of: p, count: count, granule: granule)) }
            return
        }
        SpinningPool.shared.run(parts: parts) { part in
            for k in (selected * part / parts)..<(selected * (part + 1) / parts) {
                body(part, piece(first + k * step, of: p, count: count, granule: granule))
            }
        }
    }
}
