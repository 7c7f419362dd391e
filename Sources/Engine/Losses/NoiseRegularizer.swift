/// The noise regulariser of NVIDIA's projector (stylegan2-ada-pytorch `projector.py`) and its
/// re-normalisation of noise buffers.
///
/// For one noise map P of H x W, with roll(P, 1, axis) the circular shift by one:
///
///     reg(P) = sum over scales of  mean(P * roll(P, 1, W))^2 + mean(P * roll(P, 1, H))^2,
///
/// starting at the map itself and 2x2-average-pooling (floor, as `F.avg_pool2d(kernel_size=2)`) to the
/// next scale while the current H is above 8 (the H = 8 scale, or a smaller first map, still counts).
/// NVIDIA sums it over the noise buffers and weights it by 1e5. It pushes the lag-1 autocorrelations
/// at every scale towards zero, so the optimised noise stays white rather than smuggling in image
/// content.
///
/// Maps are the trailing two dimensions: a single buffer [H, W] (or [1, H, W]) as the synthesis
/// network's `.const` noise, or a stack [N, H, W] of per-sample maps, each regularised on its own.
public struct NoiseRegularizer: Sendable {
    private let scratch = LossScratch()

    public init() {}

    /// reg for every map of `noise` [..., H, W], one value per map.
    public func evaluate(_ noise: Tensor) -> [Float] {
        var none: Tensor? = nil
        return evaluate(noise, accumulatingGradient: &none, scale: 1)
    }

    /// reg for every map of `noise` [..., H, W]; when `gradient` is not nil (shaped like `noise`), adds
    /// `scale` * d(sum of the maps' reg) / d noise into it.
    public func evaluate(_ noise: Tensor, accumulatingGradient gradient: inout Tensor?, scale: Float) -> [Float] {
        if let g = gradient {
            precondition(g.shape == noise.shape, "gradient \(g.shape) must be shaped like the noise \(noise.shape)")
        }
        let (maps, h, w) = Self.dimensions(noise)
        if gradient != nil {
            return gradient!.withUnsafeMutableBufferPointer { g in
                run(noise, maps: maps, h: h, w: w, gradient: g.baseAddress!, scale: scale)
            }
        }
        return run(noise, maps: maps, h: h, w: w, gradient: nil, scale: 0)
    }

    /// The sum of reg over several buffers (NVIDIA's `reg_loss`); when `gradients` is not nil (one tensor
    /// per buffer, shaped like it), adds `scale` * d(sum)/d buffer into each.
    public func total(_ buffers: [Tensor], accumulatingGradients gradients: inout [Tensor]?, scale: Float) -> Float {
        if let g = gradients {
            precondition(g.count == buffers.count, "one gradient per noise buffer")
            for (b, g) in zip(buffers, g) { precondition(b.shape == g.shape, "gradient \(g.shape) for noise \(b.shape)") }
        }
        var sum: Double = 0
        for (i, buffer) in buffers.enumerated() {
            let (maps, h, w) = Self.dimensions(buffer)
            let values: [Float]
            if gradients != nil {
                values = gradients![i].withUnsafeMutableBufferPointer { g in
                    run(buffer, maps: maps, h: h, w: w, gradient: g.baseAddress!, scale: scale)
                }
            } else {
                values = run(buffer, maps: maps, h: h, w: w, gradient: nil, scale: 0)
            }
            sum += values.reduce(0) { $0 + Double($1) }
        }
        return Float(sum)
    }

    /// (maps, H, W) of a [..., H, W] tensor.
    private static func dimensions(_ noise: Tensor) -> (maps: Int, h: Int, w: Int) {
        precondition(noise.rank >= 2, "noise maps must be [..., H, W], got \(noise.shape)")
        let h = noise.shape[noise.rank - 2], w = noise.shape[noise.rank - 1]
        return (h * w == 0 ? 0 : noise.count / (h * w), h, w)
    }

    /// NVIDIA's re-normalisation after each step, per map: subtract the mean, then divide by the root
    /// mean square (`buf -= buf.mean(); buf *= buf.square().mean().rsqrt()`). A map that is all one value
    /// becomes zeros (NVIDIA's would become NaN).
    public static func normalize(_ noise: inout Tensor) {
        precondition(noise.rank >= 2, "noise maps must be [..., H, W], got \(noise.shape)")
        let hw = noise.shape[noise.rank - 2] * noise.shape[noise.rank - 1]
        guard hw > 0 else { return }
        let maps = noise.count / hw
        noise.withUnsafeMutableBufferPointer { p in
            for m in 0..<maps {
                let base = m * hw
                var sum: Double = 0
                for i in 0..<hw { sum += Double(p[base + i]) }
                let mean = Float(sum / Double(hw))
                var sq: Double = 0
                for i in 0..<hw {
                    p[base + i] -= mean
                    sq += Double(p[base + i]) * Double(p[base + i])
                }
                let ms = sq / Double(hw)
                let factor: Float = ms > 0 ? Float(1 / ms.squareRoot()) : 0
                for i in 0..<hw { p[base + i] *= factor }
            }
        }
    }

    // MARK: - Implementation

    private func run(
        _ noise: Tensor, maps: Int, h: Int, w: Int, gradient: UnsafeMutablePointer<Float>?, scale: Float
    ) -> [Float] {
        var values = [Float](repeating: 0, count: maps)
        // Scratch: the pooled scales (under 1/3 of the map) and, in a second half, their gradients.
        let half = h * w / 3 + 1
        noise.withUnsafeBufferPointer { src in
            scratch.withBuffer(count: 2 * half) { buffer in
                for m in 0..<maps {
                    values[m] = Self.map(
                        src.baseAddress! + m * h * w, h: h, w: w, buffer: buffer, half: half,
                        gradient: gradient.map { $0 + m * h * w }, scale: scale)
                }
            }
        }
        return values
    }

    /// reg of one map, and `scale` * d reg / d map added into `gradient`. `buffer` holds the pooled scales
    /// in its first `half` floats and their gradients at the same offsets in the second half.
    private static func map(
        _ p0: UnsafePointer<Float>, h h0: Int, w w0: Int, buffer: UnsafeMutablePointer<Float>, half: Int,
        gradient: UnsafeMutablePointer<Float>?, scale: Float
    ) -> Float {
        // One entry per scale: its size, its offset in `buffer` (scale 0 is the map itself) and its two
        // lag-1 means.
        typealias Scale = (h: Int, w: Int, offset: Int, lagW: Double, lagH: Double)
        return withUnsafeTemporaryAllocation(of: Scale.self, capacity: 64) { scales -> Float in
            var count = 0
            var value: Double = 0
            var h = h0, w = w0, offset = 0, next = 0
            while true {
                let p = count == 0 ? p0 : UnsafePointer(buffer + offset)
                let (mw, mh) = lagProducts(p, h: h, w: w)
                value += mw * mw + mh * mh
                scales[count] = (h, w, offset, mw, mh)
                count += 1
                if h <= 8 || h / 2 == 0 || w / 2 == 0 { break }
                pool(p, h: h, w: w, into: buffer + next)
                offset = next
                h /= 2
                w /= 2
                next += h * w
            }
            guard let gradient, scale != 0 else { return Float(value) }

            // Coarse to fine: d/dP_s = direct_s + pool^T(d/dP_{s+1}); scale 0 goes into `gradient`.
            for s in stride(from: count - 1, through: 0, by: -1) {
                let (h, w, offset, mw, mh) = scales[s]
                let p = s == 0 ? p0 : UnsafePointer(buffer + offset)
                let out = s == 0 ? gradient : buffer + half + offset
                let factor: Float = s == 0 ? scale : 1
                let cw = Float(2 * mw / Double(h * w)) * factor
                let ch = Float(2 * mh / Double(h * w)) * factor
                for i in 0..<h {
                    let row = p + i * w, above = p + ((i + h - 1) % h) * w, below = p + ((i + 1) % h) * w
                    let o = out + i * w
                    for j in 0..<w {
                        let left = row[j == 0 ? w - 1 : j - 1], right = row[j == w - 1 ? 0 : j + 1]
                        let direct = cw * (left + right) + ch * (above[j] + below[j])
                        o[j] = s == 0 ? o[j] + direct : direct
                    }
                }
                if s + 1 < count {
                    // Add the coarser scale's gradient through the pool: each of the 2x2 inputs gets 1/4.
                    let coarse = buffer + half + scales[s + 1].offset
                    let ow = scales[s + 1].w
                    for i in 0..<scales[s + 1].h {
                        for j in 0..<ow {
                            let v = 0.25 * factor * coarse[i * ow + j]
                            let a = out + (2 * i) * w + 2 * j
                            a[0] += v; a[1] += v; a[w] += v; a[w + 1] += v
                        }
                    }
                }
            }
            return Float(value)
        }
    }

    /// mean(P * roll(P, 1, W)) and mean(P * roll(P, 1, H)) of an h x w map, summed in double: the means
    /// are small differences of products of order 1, so float sums would lose digits.
    private static func lagProducts(_ p: UnsafePointer<Float>, h: Int, w: Int) -> (Double, Double) {
        var sw: Double = 0, sh: Double = 0
        for i in 0..<h {
            let row = p + i * w, above = p + ((i + h - 1) % h) * w
            sw += Double(row[0]) * Double(row[w - 1])
            for j in 1..<max(w, 1) { sw += Double(row[j]) * Double(row[j - 1]) }
            for j in 0..<w { sh += Double(row[j]) * Double(above[j]) }
        }
        let n = Double(h * w)
        return (sw / n, sh / n)
    }

    /// 2x2 average pool, floor (odd trailing rows and columns dropped).
    private static func pool(_ src: UnsafePointer<Float>, h: Int, w: Int, into dst: UnsafeMutablePointer<Float>) {
        let oh = h / 2, ow = w / 2
        for i in 0..<oh {
            for j in 0..<ow {
                let a = src + (2 * i) * w + 2 * j
                dst[i * ow + j] = 0.25 * (a[0] + a[1] + a[w] + a[w + 1])
            }
        }
    }
}
