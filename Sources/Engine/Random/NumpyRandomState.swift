import Foundation

/// numpy's legacy `numpy.random.RandomState(seed)`, reproduced bit for bit for integer seeds.
///
/// The official StyleGAN2 scripts draw latents with `np.random.RandomState(seed).randn(1, z_dim)`;
/// matching that stream exactly is what makes `linstory generate --seeds 0-7` render the same
/// images as `generate.py`. Only the pieces that path needs are here: MT19937 seeded with
/// `init_genrand`, numpy's 53-bit doubles, and the legacy polar-method gaussian with its cached
/// second value.
public struct NumpyRandomState: Sendable {
    private static let n = 624
    private static let m = 397

    private var key: [UInt32]
    private var pos: Int
    // numpy's legacy gaussian makes values in pairs and hands out the second on the next call.
    private var hasGauss = false
    private var gauss = 0.0

    /// `np.random.RandomState(seed)` for `seed` in 0...2^32-1 (numpy's `mt19937_seed`).
    public init(seed: UInt32) {
        var key = [UInt32](repeating: 0, count: Self.n)
        var s = seed
        for i in 0..<Self.n {
            key[i] = s
            s = 1_812_433_253 &* (s ^ (s >> 30)) &+ UInt32(i + 1)
        }
        self.key = key
        // Exhausted, so the first draw regenerates the block as numpy does.
        self.pos = Self.n
    }

    /// The generator state as numpy's `get_state()` reports it: the 624-word key and the position.
    public var state: (key: [UInt32], pos: Int) { (key, pos) }

    /// The next raw 32-bit output (numpy's `mt19937_next32`).
    public mutating func nextUInt32() -> UInt32 {
        if pos >= Self.n { regenerate() }
        var y = key[pos]
        pos += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// A double in [0, 1) with 53 random bits (numpy's `random_sample` / `mt19937_next_double`).
    public mutating func nextDouble() -> Double {
        let a = Double(nextUInt32() >> 5)
        let b = Double(nextUInt32() >> 6)
        return (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// One standard normal value (numpy's `legacy_gauss`, as used by `randn`).
    public mutating func nextGaussian() -> Double {
        if hasGauss {
            hasGauss = false
            let cached = gauss
            gauss = 0
            return cached
        }
        var x1 = 0.0, x2 = 0.0, r2 = 0.0
        repeat {
            x1 = 2.0 * nextDouble() - 1.0
            x2 = 2.0 * nextDouble() - 1.0
            r2 = x1 * x1 + x2 * x2
        } while r2 >= 1.0 || r2 == 0.0
        // Same expression order as numpy's C so the rounding matches.
        let f = (-2.0 * Foundation.log(r2) / r2).squareRoot()
        gauss = f * x1
        hasGauss = true
        return f * x2
    }

    /// `count` standard normal values, in the order `RandomState.randn(count)` returns them.
    /// `randn(a, b)` is the same stream read row-major, so shape [a, b] is `randn(a * b)`.
    public mutating func randn(_ count: Int) -> [Double] {
        var out = [Double]()
        out.reserveCapacity(max(count, 0))
        for _ in 0..<max(count, 0) { out.append(nextGaussian()) }
        return out
    }

    /// The 624-word MT19937 block step (numpy's `mt19937_gen`).
    private mutating func regenerate() {
        let n = Self.n, m = Self.m
        key.withUnsafeMutableBufferPointer { k in
            @inline(__always) func twist(_ i: Int, _ next: Int, _ far: Int) {
                let y = (k[i] & 0x8000_0000) | (k[next] & 0x7FFF_FFFF)
                k[i] = k[far] ^ (y >> 1) ^ ((y & 1) == 0 ? 0 : 0x9908_B0DF)
            }
            for i in 0..<(n - m) { twist(i, i + 1, i + m) }
            for i in (n - m)..<(n - 1) { twist(i, i + 1, i + m - n) }
            twist(n - 1, 0, m - 1)
        }
        pos = 0
    }
}

extension NumpyRandomState {
    /// The next `rows` latents [rows, z_dim] as float32: numpy's `randn(rows, z_dim)` from this state.
    public mutating func latents(_ rows: Int, zDim: Int) -> Tensor {
        Tensor(shape: [rows, zDim], values: randn(rows * zDim).map(Float.init))
    }

    /// One z per seed, as NVIDIA's generate.py makes it: `RandomState(seed).randn(1, z_dim)`,
    /// stacked [seeds, z_dim].
    public static func latents(seeds: [UInt32], zDim: Int) -> Tensor {
        Tensor.concatenate(seeds.map { seed in
            var rng = NumpyRandomState(seed: seed)
            return rng.latents(1, zDim: zDim)
        })
    }
}
