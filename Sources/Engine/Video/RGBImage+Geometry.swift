/// Cutting and pasting rectangles, for fitting frames to a square and laying out contact sheets.
extension RGBImage {
    /// The `width` x `height` rectangle whose top-left corner is (x, y); it must lie inside the image.
    public func cropped(x: Int, y: Int, width: Int, height: Int) -> RGBImage {
        precondition(x >= 0 && y >= 0 && width >= 0 && height >= 0 && x + width <= self.width && y + height <= self.height,
                     "crop \(width)x\(height)+\(x)+\(y) is outside \(self.width)x\(self.height)")
        var out = [UInt8](repeating: 0, count: width * height * 3)
        let rowBytes = width * 3
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for row in 0..<height {
                    let from = ((y + row) * self.width + x) * 3
                    for i in 0..<rowBytes { dst[row * rowBytes + i] = src[from + i] }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// Copies `image` onto this one with its top-left corner at (x, y); parts falling outside are dropped.
    public mutating func paste(_ image: RGBImage, x: Int, y: Int) {
        let x0 = max(x, 0), y0 = max(y, 0)
        let x1 = min(x + image.width, width), y1 = min(y + image.height, height)
        guard x0 < x1 && y0 < y1 else { return }
        let w = width
        pixels.withUnsafeMutableBufferPointer { dst in
            image.pixels.withUnsafeBufferPointer { src in
                for row in y0..<y1 {
                    let to = (row * w + x0) * 3
                    let from = ((row - y) * image.width + (x0 - x)) * 3
                    for i in 0..<((x1 - x0) * 3) { dst[to + i] = src[from + i] }
                }
            }
        }
    }

    /// An image filled with one colour.
    public init(width: Int, height: Int, fill: (r: UInt8, g: UInt8, b: UInt8)) {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[i * 3] = fill.r; pixels[i * 3 + 1] = fill.g; pixels[i * 3 + 2] = fill.b
        }
        self.init(width: width, height: height, pixels: pixels)
    }
}
