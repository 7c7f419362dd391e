/// One value per frame (NaN where there is none yet) with a pyramid of minima and maxima over
/// power-of-two blocks, so the timeline asks for the largest value of any range of frames in
/// O(log n) and a redraw costs the same at 200 frames as at a film's 130,000. Setting one value
/// updates its O(log n) blocks; appending rebuilds only the blocks past the old end.
public struct FrameValues: Equatable, Sendable, RandomAccessCollection, MutableCollection, ExpressibleByArrayLiteral {
    /// The values; levels[k][i] is the summary of values[i * 2^k ..< (i + 1) * 2^k] (level 0: the
    /// values themselves, missing ones as -inf in `maxima` and +inf in `minima`).
    public private(set) var values: [Double]
    private var maxima: [[Double]] = []
    private var minima: [[Double]] = []

    public init(_ values: [Double] = []) {
        self.values = values
        rebuild(from: 0)
    }

    public init(arrayLiteral elements: Double...) { self.init(elements) }

    public init(repeating value: Double, count: Int) { self.init(Array(repeating: value, count: count)) }

    /// Equal values, NaN equal to NaN ("not yet" is the same in both). Two copies of one state share
    /// their storage, which the UI loop's "did anything change" test sees at once.
    public static func == (a: FrameValues, b: FrameValues) -> Bool {
        guard a.values.count == b.values.count else { return false }
        let shared = a.values.withUnsafeBufferPointer { pa in b.values.withUnsafeBufferPointer { pb in pa.baseAddress == pb.baseAddress } }
        return shared || zip(a.values, b.values).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { values.count }

    public subscript(i: Int) -> Double {
        get { values[i] }
        set {
            values[i] = newValue
            update(i)
        }
    }

    public mutating func append(contentsOf more: some Sequence<Double>) {
        let old = values.count
        values.append(contentsOf: more)
        rebuild(from: old)
    }

    public static func += (values: inout FrameValues, more: [Double]) { values.append(contentsOf: more) }

    /// The largest finite value among `range`'s frames (clamped to the values), nil when none is.
    public func max(in range: Range<Int>) -> Double? {
        let v = query(range, maxima, -.infinity, Swift.max)
        return v.isFinite ? v : nil
    }

    /// The smallest finite value among `range`'s frames, nil when none is.
    public func min(in range: Range<Int>) -> Double? {
        let v = query(range, minima, .infinity, Swift.min)
        return v.isFinite ? v : nil
    }

    /// The largest and smallest finite values of all frames.
    public var finiteMax: Double? { max(in: 0..<values.count) }
    public var finiteMin: Double? { min(in: 0..<values.count) }
    public var hasFinite: Bool { finiteMax != nil }

    private func query(_ range: Range<Int>, _ levels: [[Double]], _ none: Double, _ pick: (Double, Double) -> Double) -> Double {
        var a = Swift.max(0, range.lowerBound), b = Swift.min(values.count, range.upperBound)
        var result = none
        var k = 0
        // Climb while the range is wider than a block: take the unaligned ends at each level.
        while a < b && k < levels.count {
            if a & 1 == 1 { result = pick(result, levels[k][a]); a += 1 }
            if b & 1 == 1 { b -= 1; result = pick(result, levels[k][b]) }
            a >>= 1
            b >>= 1
            k += 1
        }
        return result
    }

    private mutating func update(_ i: Int) {
        let v = values[i]
        maxima[0][i] = v.isFinite ? v : -.infinity
        minima[0][i] = v.isFinite ? v : .infinity
        var j = i, k = 1
        while k < maxima.count {
            j >>= 1
            let l = 2 * j, r = 2 * j + 1
            let below = maxima[k - 1].count
            maxima[k][j] = r < below ? Swift.max(maxima[k - 1][l], maxima[k - 1][r]) : maxima[k - 1][l]
            minima[k][j] = r < below ? Swift.min(minima[k - 1][l], minima[k - 1][r]) : minima[k - 1][l]
            k += 1
        }
    }

    /// Recomputes level 0 from `start` on and every block above it.
    private mutating func rebuild(from start: Int) {
        if maxima.isEmpty {
            maxima = [[]]
            minima = [[]]
        }
        maxima[0].removeSubrange(Swift.min(start, maxima[0].count)...)
        minima[0].removeSubrange(Swift.min(start, minima[0].count)...)
        for v in values[start...] {
            maxima[0].append(v.isFinite ? v : -.infinity)
            minima[0].append(v.isFinite ? v : .infinity)
        }
        var k = 1, from = start
        while maxima[k - 1].count > 1 {
            let below = maxima[k - 1].count, count = (below + 1) / 2
            from >>= 1
            if k == maxima.count {
                maxima.append([])
                minima.append([])
            }
            maxima[k].removeSubrange(Swift.min(from, maxima[k].count)...)
            minima[k].removeSubrange(Swift.min(from, minima[k].count)...)
            for j in maxima[k].count..<count {
                let l = 2 * j, r = 2 * j + 1
                maxima[k].append(r < below ? Swift.max(maxima[k - 1][l], maxima[k - 1][r]) : maxima[k - 1][l])
                minima[k].append(r < below ? Swift.min(minima[k - 1][l], minima[k - 1][r]) : minima[k - 1][l])
            }
            k += 1
        }
        maxima.removeSubrange(k...)
        minima.removeSubrange(k...)
    }
}
