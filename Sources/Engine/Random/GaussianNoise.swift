/// A fast seeded Gaussian source (SplitMix64 + Box-Muller) for noise maps and initialisations.
///
/// linstory's own draws: they are reproducible for a seed but do not match PyTorch's `randn`.
public struct GaussianNoise: Sendable {
    private var state: UInt64
    private var spare: Float?

    public init(seed: UInt64) { state = seed }

    /// Stream `stream` of `seed`: the draws of one piece of work (a frame, or a batch named by its
    /// first frame), the same whichever process does it and whatever it did before, so that a film
    /// split among workers gives the bits one process gives. The starting state is the seed and the
    /// stream hashed together (SplitMix64's finaliser), so neighbouring streams start far apart.
    public init(seed: UInt64, stream: Int) {
        state = Self.mix(seed &+ Self.mix(UInt64(bitPattern: Int64(stream)) &+ 0x632B_E59B_D9B4_E019))
    }

    /// SplitMix64's output function: a bijective 64-bit hash.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func nextUInt64() -> UInt64 {
        defer { state &+= 0x9E37_79B9_7F4A_7C15 }
        return Self.mix(state)
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
