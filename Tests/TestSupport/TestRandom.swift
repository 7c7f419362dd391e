import Engine

/// Seeded Gaussian draws for tests, on top of the engine's `GaussianNoise` (SplitMix64 +
/// Box-Muller), so every random shape, input and weight in a test is fixed by its seed.
public struct TestRandom {
    private var source: GaussianNoise

    public init(seed: UInt64) { source = GaussianNoise(seed: seed) }

    /// One standard normal draw.
    public mutating func normal() -> Float { source.next() }

    /// `count` draws of offset + scale * N(0, 1).
    public mutating func normals(_ count: Int, scale: Float = 1, offset: Float = 0) -> [Float] {
        (0..<count).map { _ in offset + scale * source.next() }
    }

    /// A tensor of offset + scale * N(0, 1).
    public mutating func tensor(_ shape: [Int], scale: Float = 1, offset: Float = 0) -> Tensor {
        Tensor(shape: shape, values: normals(shape.reduce(1, *), scale: scale, offset: offset))
    }
}

extension Tensor {
    /// The values widened to float64, for references that compute in double.
    public var doubles: [Double] { scalars.map(Double.init) }
}
