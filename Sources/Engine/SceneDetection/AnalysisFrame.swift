/// A frame as the scene detector sees it: small, in Y/Cb/Cr, at two scales.
///
/// Y, Cb, Cr rather than PySceneDetect's HSV: hue and saturation are undefined for dark and grey
/// pixels, so a fade to black makes them jump at the last frames and reads as a hard cut; chroma
/// shrinks smoothly to zero instead. Level 0 (the analysis size, 64 pixels wide by default) serves
/// the frame-to-frame difference and motion search; level 1 (half of it) the blend fits of gradual
/// transitions, where a coarser picture makes motion between distant frames smaller.
struct AnalysisFrame: Sendable {
    let width: Int
    let height: Int
    /// [3, height, width]: Y, Cb, Cr, 0-255 scale (Cb, Cr centred on 0).
    let planes: [Float]
    let coarseWidth: Int
    let coarseHeight: Int
    /// [3, coarseHeight, coarseWidth], the 2x2 averages of `planes`.
    let coarse: [Float]
    /// The picture is a single colour (black, white, a solid background): the standard deviation of
    /// each plane is under 4 levels. Fades go to and come from such frames.
    let isFlat: Bool

    /// `image` must already be width x height (even sides).
    init(_ image: RGBImage) {
        precondition(image.width % 2 == 0 && image.height % 2 == 0, "analysis frames have even sides")
        width = image.width
        height = image.height
        let n = width * height
        var planes = [Float](repeating: 0, count: 3 * n)
        image.pixels.withUnsafeBufferPointer { src in
            planes.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    let r = Float(src[i * 3]), g = Float(src[i * 3 + 1]), b = Float(src[i * 3 + 2])
                    let y = 0.299 * r + 0.587 * g + 0.114 * b
                    dst[i] = y
                    dst[n + i] = 0.564 * (b - y)
                    dst[2 * n + i] = 0.713 * (r - y)
                }
            }
        }
        self.planes = planes
        coarseWidth = width / 2
        coarseHeight = height / 2
        let cw = coarseWidth, ch = coarseHeight, w = width
        var coarse = [Float](repeating: 0, count: 3 * cw * ch)
        var flat = true
        planes.withUnsafeBufferPointer { src in
            coarse.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    var sum: Float = 0, squares: Float = 0
                    for y in 0..<ch {
                        for x in 0..<cw {
                            let p = c * n + 2 * y * w + 2 * x
                            let v = 0.25 * (src[p] + src[p + 1] + src[p + w] + src[p + w + 1])
                            dst[c * cw * ch + y * cw + x] = v
                            sum += v
                            squares += v * v
                        }
                    }
                    let count = Float(cw * ch)
                    let variance = max(squares / count - (sum / count) * (sum / count), 0)
                    if variance > 16 { flat = false }
                }
            }
        }
        self.coarse = coarse
        isFlat = flat
    }

    /// The analysis size for a source of `width` x `height`: `analysisWidth` wide, the height
    /// following the aspect ratio, both even.
    static func size(width: Int, height: Int, analysisWidth: Int) -> (width: Int, height: Int) {
        let w = max(8, analysisWidth / 2 * 2)
        let h = Int((Double(w) * Double(height) / Double(max(width, 1)) / 2).rounded()) * 2
        return (w, min(max(h, 8), 4 * w))
    }
}
