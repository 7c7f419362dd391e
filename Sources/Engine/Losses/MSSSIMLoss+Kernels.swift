/// The plain kernels MS-SSIM's forward and backward are made of: a block-summed mean, one row's
/// 'valid' correlation with the Gaussian window, and the 2x2 average pool with its backward.
extension MSSSIMLoss {
    /// The mean of `count` floats, summed in blocks in double.
    static func mean(_ p: UnsafePointer<Float>, count: Int) -> Float {
        var sum: Double = 0
        var i = 0
        while i < count {
            let end = min(i + 1024, count)
            var block: Float = 0
            for j in i..<end { block += p[j] }
            sum += Double(block)
            i = end
        }
        return Float(sum / Double(max(count, 1)))
    }

    /// out[j] = sum over t of g[t] * src[j + t], j < count ('valid' correlation of one row).
    @inline(__always)
    static func correlate(
        _ src: UnsafePointer<Float>, g: UnsafePointer<Float>, taps: Int, into out: UnsafeMutablePointer<Float>,
        count: Int
    ) {
        let g0 = g[0]
        for j in 0..<count { out[j] = g0 * src[j] }
        for t in 1..<taps {
            let gt = g[t]
            let shifted = src + t
            for j in 0..<count { out[j] += gt * shifted[j] }
        }
    }

    /// 2x2 average pool, PyTorch's `avg_pool2d(kernel_size=2, padding=(h % 2, w % 2))` with padded zeros
    /// counted: output ceil(h/2) x ceil(w/2).
    static func pool(_ src: UnsafePointer<Float>, h: Int, w: Int, into dst: UnsafeMutablePointer<Float>) {
        let ph = h % 2, pw = w % 2
        let oh = (h + 1) / 2, ow = (w + 1) / 2
        for i in 0..<oh {
            for j in 0..<ow {
                var sum: Float = 0
                for a in 0..<2 {
                    let r = 2 * i - ph + a
                    if r < 0 || r >= h { continue }
                    for b in 0..<2 {
                        let col = 2 * j - pw + b
                        if col < 0 || col >= w { continue }
                        sum += src[r * w + col]
                    }
                }
                dst[i * ow + j] = 0.25 * sum
            }
        }
    }

    /// The transpose of `pool`: adds d/d src of the pooled gradient `src` (of the output size) into `dst` (h x w).
    static func poolBackward(_ src: UnsafePointer<Float>, h: Int, w: Int, into dst: UnsafeMutablePointer<Float>) {
        let ph = h % 2, pw = w % 2
        let oh = (h + 1) / 2, ow = (w + 1) / 2
        for i in 0..<oh {
            for j in 0..<ow {
                let v = 0.25 * src[i * ow + j]
                for a in 0..<2 {
                    let r = 2 * i - ph + a
                    if r < 0 || r >= h { continue }
                    for b in 0..<2 {
                        let col = 2 * j - pw + b
                        if col < 0 || col >= w { continue }
                        dst[r * w + col] += v
                    }
                }
            }
        }
    }
}
