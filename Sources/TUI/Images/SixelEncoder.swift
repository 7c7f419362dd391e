import Engine

/// Encodes an RGB image as DEC sixel graphics: a DCS string with raster attributes, a palette of
/// at most `maxColors` registers chosen by median cut, and run-length encoded bands of six rows.
///
/// Format (VT330/VT340 Programmer Reference, chapter 14): `ESC P p1;p2;p3 q`, then `"1;1;W;H`
/// (1:1 pixels, the image size), `#n;2;r;g;b` per register (percent), then per band, per colour:
/// `#n` and one character per column, 63 + the six vertical bits (bit 0 the top row), `!k c`
/// repeating c k times; `$` returns to the band's start for the next colour, `-` starts the next
/// band; `ESC \` ends. p2 = 1 leaves pixels no colour sets unchanged, so the partial last band
/// paints nothing below the image.
public struct SixelEncoder: Sendable {
    public var maxColors: Int

    public init(maxColors: Int = 256) {
        self.maxColors = max(2, maxColors)
    }

    public func encode(_ image: RGBImage) -> [UInt8] {
        encode(MedianCutQuantizer(maxColors: maxColors).quantize(image))
    }

    public func encode(_ image: IndexedImage) -> [UInt8] {
        let w = image.width, h = image.height
        var out: [UInt8] = []
        out.reserveCapacity(w * h / 2 + 64 + image.palette.count * 20)
        out += Array("\u{1B}P0;1;0q\"1;1;\(w);\(h)".utf8)
        for (i, c) in image.palette.enumerated() {
            out += Array("#\(i);2;\(Self.percent(c.r));\(Self.percent(c.g));\(Self.percent(c.b))".utf8)
        }
        guard w > 0, h > 0 else {
            out += [0x1B, UInt8(ascii: "\\")]
            return out
        }
        let colors = image.palette.count
        // Per colour, one byte of six bits per column, for the band being encoded.
        var bits = [UInt8](repeating: 0, count: colors * w)
        var present = [Bool](repeating: false, count: colors)
        var used: [Int] = []
        image.indices.withUnsafeBufferPointer { indices in
            for bandTop in stride(from: 0, to: h, by: 6) {
                used.removeAll(keepingCapacity: true)
                for row in 0..<min(6, h - bandTop) {
                    let base = (bandTop + row) * w
                    let bit = UInt8(1 << row)
                    for x in 0..<w {
                        let c = Int(indices[base + x])
                        if !present[c] { present[c] = true; used.append(c) }
                        bits[c * w + x] |= bit
                    }
                }
                for (k, c) in used.enumerated() {
                    if k > 0 { out.append(UInt8(ascii: "$")) }
                    out += Array("#\(c)".utf8)
                    Self.appendRuns(bits[(c * w)..<(c * w + w)], to: &out)
                    for x in 0..<w { bits[c * w + x] = 0 }
                    present[c] = false
                }
                if bandTop + 6 < h { out.append(UInt8(ascii: "-")) }
            }
        }
        out += [0x1B, UInt8(ascii: "\\")]
        return out
    }

    /// One colour's row of sixels, run-length encoded, without the empty columns at its end.
    static func appendRuns(_ columns: ArraySlice<UInt8>, to out: inout [UInt8]) {
        var end = columns.endIndex
        while end > columns.startIndex && columns[end - 1] == 0 { end -= 1 }
        var i = columns.startIndex
        while i < end {
            let v = columns[i]
            var j = i + 1
            while j < end && columns[j] == v { j += 1 }
            let run = j - i
            let ch = 63 + v
            if run > 3 {
                out += Array("!\(run)".utf8)
                out.append(ch)
            } else {
                for _ in 0..<run { out.append(ch) }
            }
            i = j
        }
    }

    /// A channel as the percentage sixel palettes use, rounded to nearest.
    static func percent(_ v: UInt8) -> Int { (Int(v) * 100 + 127) / 255 }
}
