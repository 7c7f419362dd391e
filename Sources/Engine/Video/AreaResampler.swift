/// Resizing 8-bit RGB images by area averaging.
///
/// Shrinking, each output pixel is the average of the source area it covers, partial pixels
/// weighted by the fraction covered: no source pixel is skipped, so fine detail averages out instead
/// of aliasing into moire. Growing, the same rule would repeat pixels into blocks, so each axis that
/// grows uses linear interpolation between pixel centres instead (what OpenCV's INTER_AREA does).
/// For display (`.nearest`) a growing axis repeats the nearest pixel instead, so a 64-pixel frame
/// shown large stays crisp rather than turning to mush.
/// The two axes are handled separately (the filter is separable); `reference` is the plain
/// two-dimensional sum the fast path is tested against.
public enum AreaResampler {
    /// What an axis that grows does: interpolate linearly between pixel centres (frames for the
    /// engine), or repeat the nearest pixel (images for a person to look at).
    public enum Enlarging: Sendable {
        case linear, nearest
    }

    public static func resize(_ image: RGBImage, width: Int, height: Int, enlarging: Enlarging = .linear) -> RGBImage {
        precondition(width > 0 && height > 0, "cannot resize to \(width)x\(height)")
        if image.width == width && image.height == height { return image }
        precondition(image.width > 0 && image.height > 0, "cannot resize an empty image")
        if enlarging == .nearest && width >= image.width && height >= image.height {
            return nearestEnlarged(image, width: width, height: height)
        }
        let columns = AxisWeights(from: image.width, to: width, enlarging: enlarging)
        let rows = AxisWeights(from: image.height, to: height, enlarging: enlarging)
        let sw = image.width
        // Horizontal pass into floats: [source rows, width, 3].
        var across = [Float](repeating: 0, count: image.height * width * 3)
        image.pixels.withUnsafeBufferPointer { src in
            across.withUnsafeMutableBufferPointer { dst in
                for y in 0..<image.height {
                    let row = y * sw * 3
                    for x in 0..<width {
                        var r: Float = 0, g: Float = 0, b: Float = 0
                        var p = row + columns.first[x] * 3
                        for k in columns.start[x]..<columns.start[x + 1] {
                            let w = columns.weights[k]
                            r += w * Float(src[p]); g += w * Float(src[p + 1]); b += w * Float(src[p + 2])
                            p += 3
                        }
                        let q = (y * width + x) * 3
                        dst[q] = r; dst[q + 1] = g; dst[q + 2] = b
                    }
                }
            }
        }
        // Vertical pass, rounding to bytes.
        var out = [UInt8](repeating: 0, count: width * height * 3)
        across.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let stride = width * 3
                for y in 0..<height {
                    let lo = rows.start[y], hi = rows.start[y + 1], top = rows.first[y]
                    for x in 0..<stride {
                        var v: Float = 0
                        for k in lo..<hi { v += rows.weights[k] * src[(top + k - lo) * stride + x] }
                        dst[y * stride + x] = byte(v)
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// The same result computed the slow, obvious way: every output pixel sums source pixels with the
    /// product of the two axes' weights. Kept as the algorithmic reference for tests.
    public static func reference(_ image: RGBImage, width: Int, height: Int, enlarging: Enlarging = .linear) -> RGBImage {
        let columns = AxisWeights(from: image.width, to: width, enlarging: enlarging)
        let rows = AxisWeights(from: image.height, to: height, enlarging: enlarging)
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    var v: Double = 0
                    for (sy, wy) in rows.taps(y) {
                        for (sx, wx) in columns.taps(x) {
                            v += Double(wy) * Double(wx) * Double(image.pixels[(sy * image.width + sx) * 3 + c])
                        }
                    }
                    out[(y * width + x) * 3 + c] = byte(Float(v))
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// Nearest-neighbour enlargement of both axes, copying bytes: the UI's common case (a small frame
    /// shown large, every frame drawn) skips the float passes. The same pixels as the general path.
    static func nearestEnlarged(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        let xs = (0..<width).map { AxisWeights.nearest($0, from: image.width, to: width) * 3 }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = AxisWeights.nearest(y, from: image.height, to: height) * image.width * 3
                    var o = y * width * 3
                    for sx in xs {
                        dst[o] = src[row + sx]; dst[o + 1] = src[row + sx + 1]; dst[o + 2] = src[row + sx + 2]
                        o += 3
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    @inline(__always)
    static func byte(_ v: Float) -> UInt8 {
        let r = (v + 0.5).rounded(.down)
        return r <= 0 ? 0 : (r >= 255 ? 255 : UInt8(r))
    }
}

/// For each output position along one axis, the source positions it reads and their weights (which
/// sum to 1): output i reads source first[i], first[i] + 1, ... with weights[start[i]..<start[i + 1]].
struct AxisWeights {
    private(set) var start: [Int] = []
    private(set) var first: [Int] = []
    private(set) var weights: [Float] = []

    /// The source pixel whose span holds output pixel `i`'s centre.
    static func nearest(_ i: Int, from n: Int, to m: Int) -> Int { min(n - 1, (2 * i + 1) * n / (2 * m)) }

    init(from n: Int, to m: Int, enlarging: AreaResampler.Enlarging = .linear) {
        let scale = Double(n) / Double(m)
        for i in 0..<m {
            start.append(weights.count)
            if scale < 1 && enlarging == .nearest {
                first.append(Self.nearest(i, from: n, to: m))
                weights.append(1)
            } else if scale >= 1 {
                // Box: output pixel i covers source interval [i * scale, (i + 1) * scale).
                let lo = Double(i) * scale, hi = Double(i + 1) * scale
                var j = Int(lo.rounded(.down))
                var lowest = -1
                while Double(j) < hi - 1e-9 && j < n {
                    let covered = min(hi, Double(j + 1)) - max(lo, Double(j))
                    if covered > 1e-9 {
                        if lowest < 0 { lowest = j }
                        weights.append(Float(covered / scale))
                    }
                    j += 1
                }
                first.append(lowest)
            } else {
                // Linear between centres: output centre i + 0.5 maps to source position (i + 0.5) * scale - 0.5.
                let x = min(max((Double(i) + 0.5) * scale - 0.5, 0), Double(n - 1))
                let j = min(Int(x.rounded(.down)), n - 1)
                let f = x - Double(j)
                first.append(j)
                if j + 1 < n && f > 1e-9 {
                    weights.append(Float(1 - f)); weights.append(Float(f))
                } else {
                    weights.append(1)
                }
            }
        }
        start.append(weights.count)
    }

    /// (source index, weight) pairs for output position `i`.
    func taps(_ i: Int) -> [(Int, Float)] {
        (start[i]..<start[i + 1]).map { (first[i] + $0 - start[i], weights[$0]) }
    }
}
