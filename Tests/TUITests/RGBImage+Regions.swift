import Engine

/// Finding and cutting out regions of screenshots.
extension RGBImage {
    /// The smallest rectangle holding every pixel within `tolerance` of `color` in each channel,
    /// as (x, y, width, height); nil when there is none. The default 8 levels only absorbs the capture
    /// path's colour conversion: the colours looked for are pure primaries / magenta, >= 255 apart in
    /// some channel, so anything below 127 could not confuse them.
    func boundingBox(of color: (UInt8, UInt8, UInt8), tolerance: Int = 8) -> (x: Int, y: Int, width: Int, height: Int)? {
        var x0 = Int.max, y0 = Int.max, x1 = -1, y1 = -1
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                if abs(Int(pixels[i]) - Int(color.0)) <= tolerance, abs(Int(pixels[i + 1]) - Int(color.1)) <= tolerance,
                   abs(Int(pixels[i + 2]) - Int(color.2)) <= tolerance {
                    x0 = min(x0, x); y0 = min(y0, y); x1 = max(x1, x); y1 = max(y1, y)
                }
            }
        }
        return x1 < 0 ? nil : (x0, y0, x1 - x0 + 1, y1 - y0 + 1)
    }

    /// A crop, for comparing a screen region with an expected image.
    func cropped(x: Int, y: Int, width w: Int, height h: Int) -> RGBImage {
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for row in 0..<h {
            let src = ((y + row) * width + x) * 3
            out.replaceSubrange((row * w * 3)..<((row + 1) * w * 3), with: pixels[src..<(src + w * 3)])
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}
