import Engine

/// The worst element of `ours - reference`, reported with the tensor's name.
public struct TensorComparison: CustomStringConvertible {
    public let name: String
    public let maxAbsDiff: Float
    public let maxAbsReference: Float
    public let worstIndex: [Int]
    public let ours: Float
    public let reference: Float
    /// ||ours - ref||_2 / ||ref||_2, the usual gradient-check measure: one activation that sits
    /// within float rounding of the lrelu's kink can flip its 5x slope between two correct
    /// implementations, which moves one element a lot and the whole tensor very little.
    public let relativeL2Error: Float

    /// max |ours - ref| / max |ref| (the tolerance measure).
    public var relativeError: Float { maxAbsReference > 0 ? maxAbsDiff / maxAbsReference : maxAbsDiff }

    public init(_ name: String, ours a: Tensor, reference b: Tensor) {
        precondition(a.shape == b.shape, "\(name): shape \(a.shape) vs reference \(b.shape)")
        var worst = 0
        var maxDiff: Float = 0
        var maxRef: Float = 0
        var diffSq: Double = 0
        var refSq: Double = 0
        a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                for i in 0..<x.count {
                    diffSq += Double(x[i] - y[i]) * Double(x[i] - y[i])
                    refSq += Double(y[i]) * Double(y[i])
                    let d = abs(x[i] - y[i])
                    if d > maxDiff || d.isNaN { maxDiff = d.isNaN ? .infinity : d; worst = i }
                    maxRef = max(maxRef, abs(y[i]))
                }
            }
        }
        var index: [Int] = []
        var rest = worst
        for dim in a.shape.reversed() { index.insert(rest % max(dim, 1), at: 0); rest /= max(dim, 1) }
        self.name = name
        relativeL2Error = refSq > 0 ? Float((diffSq / refSq).squareRoot()) : Float(diffSq.squareRoot())
        maxAbsDiff = maxDiff
        maxAbsReference = maxRef
        worstIndex = index
        ours = a.count > 0 ? a[flat: worst] : 0
        reference = b.count > 0 ? b[flat: worst] : 0
    }

    public var description: String {
        "\(name): max|diff| \(maxAbsDiff) (relative \(relativeError), L2 \(relativeL2Error)) at \(worstIndex): ours \(ours), reference \(reference)"
    }
}
