/// Integers as runs of consecutive values ("3-7, 12"): how frame lists and Slurm task lists are
/// written for people and for `sbatch --array`.
public enum IntegerRuns {
    /// The sorted, distinct values grouped into runs of consecutive ones.
    public static func runs(_ values: [Int]) -> [ClosedRange<Int>] {
        var runs: [ClosedRange<Int>] = []
        for v in Set(values).sorted() {
            if let last = runs.last, last.upperBound + 1 == v { runs[runs.count - 1] = last.lowerBound...v } else { runs.append(v...v) }
        }
        return runs
    }

    /// "3-7<separator>12": each run as "A-B", or "A" alone.
    public static func text(_ values: [Int], separator: String = ", ") -> String {
        runs(values).map(text).joined(separator: separator)
    }

    static func text(_ run: ClosedRange<Int>) -> String {
        run.count == 1 ? "\(run.lowerBound)" : "\(run.lowerBound)-\(run.upperBound)"
    }
}
