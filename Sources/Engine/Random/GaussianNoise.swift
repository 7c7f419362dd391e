/// A fast seeded Gaussian source (SplitMix64 + Box-Muller) for noise maps and initialisations.
///
/// linstory's own draws: they are reproducible for a seed but do not match PyTorch's `randn`.
public struct GaussianNoise: Sendable {
    private var state: UInt64
    private var spare: Float?

    public init(seed: UInt64) { state = seed }

    public mutating func nextUInt64() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    public mutating func nextUniform() -> Double {
        Double((nextUInt64() >> 11) + 1) * 0x1.0p-53
    }

    public mutating func next() -> Float {
        if let s = spare { spare = nil; return s }
        let u1 = nextUniform()
        let u2 = nextUniform()
        let r = (-2 * _log(u1)).squareRoot()
        let a = 2 * Double.pi * u2
        spare = Float(r * _sin(a))
        return Float(r * _cos(a))
    }

    public mutating func fill(_ p: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { p[i] = next() }
    }
}

@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Foundation.sin(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }

import Foundation
