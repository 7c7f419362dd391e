import Engine

/// Resizes RGB images for display: area averaging when shrinking (every source pixel counts, so a
/// thin line does not vanish), nearest neighbour when enlarging (a 64-pixel frame stays crisp
/// instead of turning to mush). Each axis chooses on its own.
public enum ImageResampler {
    public static func resized(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        precondition(width > 0 && height > 0, "resize to \(width)x\(height)")
        if width == image.width && height == image.height { return image }
        guard image.width > 0, image.height > 0 else { return RGBImage(width: width, height: height) }
        if width >= image.width && height >= image.height { return enlarged(image, width: width, height: height) }
        let xs = weights(from: image.width, to: width)
        let ys = weights(from: image.height, to: height)
        var out = [UInt8](repeating: 0, count: width * height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            // Rows first into a float buffer, then columns: separable, so the cost is linear in each side.
            var rows = [Float](repeating: 0, count: image.height * width * 3)
            for y in 0..<image.height {
                for (x, taps) in xs.enumerated() {
                    var r: Float = 0, g: Float = 0, b: Float = 0
                    for (sx, w) in taps {
                        let i = (y * image.width + sx) * 3
                        r += w * Float(src[i]); g += w * Float(src[i + 1]); b += w * Float(src[i + 2])
                    }
                    let o = (y * width + x) * 3
                    rows[o] = r; rows[o + 1] = g; rows[o + 2] = b
                }
            }
            for (y, taps) in ys.enumerated() {
                for x in 0..<width {
                    var r: Float = 0, g: Float = 0, b: Float = 0
                    for (sy, w) in taps {
                        let i = (sy * width + x) * 3
                        r += w * rows[i]; g += w * rows[i + 1]; b += w * rows[i + 2]
                    }
                    let o = (y * width + x) * 3
                    out[o] = clampByte(r); out[o + 1] = clampByte(g); out[o + 2] = clampByte(b)
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// Nearest-neighbour enlargement, copying bytes: the common case (a 64-pixel frame shown
    /// large) runs every frame, so it skips the general path's float passes.
    static func enlarged(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        let xs = (0..<width).map { min(image.width - 1, (2 * $0 + 1) * image.width / (2 * width)) * 3 }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = min(image.height - 1, (2 * y + 1) * image.height / (2 * height)) * image.width * 3
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

    /// For each output index, the source indices and weights that make it: the overlap of the
    /// output pixel's span with each source pixel when shrinking, the one nearest source pixel when
    /// enlarging.
    static func weights(from source: Int, to target: Int) -> [[(Int, Float)]] {
        if target >= source {
            return (0..<target).map { i in
                [(min(source - 1, (2 * i + 1) * source / (2 * target)), 1)]
            }
        }
        let scale = Double(source) / Double(target)
        return (0..<target).map { i in
            let start = Double(i) * scale, end = Double(i + 1) * scale
            var taps: [(Int, Float)] = []
            var s = Int(start)
            while Double(s) < end && s < source {
                let overlap = min(end, Double(s + 1)) - max(start, Double(s))
                if overlap > 1e-9 { taps.append((s, Float(overlap / scale))) }
                s += 1
            }
            return taps
        }
    }

    @inline(__always)
    static func clampByte(_ v: Float) -> UInt8 {
        let r = (v + 0.5).rounded(.down)
        return r <= 0 ? 0 : r >= 255 ? 255 : UInt8(r)
    }
}
