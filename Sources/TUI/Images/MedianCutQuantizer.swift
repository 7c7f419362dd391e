import Engine

/// Chooses at most `maxColors` colours for an image by median cut (Heckbert 1982) and maps every
/// pixel to the nearest. An image with few enough distinct colours keeps them exactly. No
/// dithering: previews are compared with their source, and dither noise would look like error.
public struct MedianCutQuantizer: Sendable {
    public var maxColors: Int

    public init(maxColors: Int = 256) {
        precondition(maxColors >= 2, "a palette needs at least two colours")
        self.maxColors = maxColors
    }

    public func quantize(_ image: RGBImage) -> IndexedImage {
        let count = image.width * image.height
        let p = image.pixels
        // Exact colours when there are few of them.
        var exact: [UInt32: UInt16] = [:]
        var exactPalette: [IndexedImage.Color] = []
        var indices = [UInt16](repeating: 0, count: count)
        for i in 0..<count {
            let key = UInt32(p[i * 3]) << 16 | UInt32(p[i * 3 + 1]) << 8 | UInt32(p[i * 3 + 2])
            if let index = exact[key] {
                indices[i] = index
                continue
            }
            if exactPalette.count == maxColors { exactPalette.removeAll(); break }
            exact[key] = UInt16(exactPalette.count)
            indices[i] = UInt16(exactPalette.count)
            exactPalette.append(.init(r: p[i * 3], g: p[i * 3 + 1], b: p[i * 3 + 2]))
        }
        if !exactPalette.isEmpty || count == 0 {
            return IndexedImage(width: image.width, height: image.height, palette: exactPalette, indices: indices)
        }

        // A histogram over 5 bits per channel: 32,768 bins, each with its count and colour sums.
        var histogram = [Bin](repeating: Bin(), count: 1 << 15)
        for i in 0..<count {
            let r = p[i * 3], g = p[i * 3 + 1], b = p[i * 3 + 2]
            let key = Self.binKey(r, g, b)
            histogram[key].count += 1
            histogram[key].sum.0 += Int(r); histogram[key].sum.1 += Int(g); histogram[key].sum.2 += Int(b)
        }
        var bins: [Int] = (0..<histogram.count).filter { histogram[$0].count > 0 }
        var boxes: [Box] = [Box(range: 0..<bins.count)]
        boxes[0].measure(bins, histogram)
        while boxes.count < maxColors {
            // Split the box whose longest side, weighted by its pixel count, is largest.
            guard let pick = boxes.indices.filter({ boxes[$0].range.count > 1 })
                .max(by: { boxes[$0].priority < boxes[$1].priority }) else { break }
            let box = boxes[pick]
            let channel = box.longestChannel
            bins[box.range].sort { Self.channel(of: $0, channel) < Self.channel(of: $1, channel) }
            // The median by pixel count, keeping at least one bin on each side.
            let half = box.pixels / 2
            var seen = 0, cut = box.range.lowerBound + 1
            for j in box.range {
                seen += histogram[bins[j]].count
                if seen >= half { cut = min(max(j + 1, box.range.lowerBound + 1), box.range.upperBound - 1); break }
            }
            var low = Box(range: box.range.lowerBound..<cut), high = Box(range: cut..<box.range.upperBound)
            low.measure(bins, histogram)
            high.measure(bins, histogram)
            boxes[pick] = low
            boxes.append(high)
        }
        let palette: [IndexedImage.Color] = boxes.map { box in
            var n = 0, r = 0, g = 0, b = 0
            for j in box.range {
                let h = histogram[bins[j]]
                n += h.count; r += h.sum.0; g += h.sum.1; b += h.sum.2
            }
            return .init(r: UInt8((r + n / 2) / n), g: UInt8((g + n / 2) / n), b: UInt8((b + n / 2) / n))
        }
        // Nearest palette entry per pixel, remembered per exact colour.
        var nearest: [UInt32: UInt16] = [:]
        for i in 0..<count {
            let r = p[i * 3], g = p[i * 3 + 1], b = p[i * 3 + 2]
            let key = UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b)
            if let index = nearest[key] { indices[i] = index; continue }
            var best = 0, bestDistance = Int.max
            for (k, c) in palette.enumerated() {
                let dr = Int(c.r) - Int(r), dg = Int(c.g) - Int(g), db = Int(c.b) - Int(b)
                let d = dr * dr + dg * dg + db * db
                if d < bestDistance { best = k; bestDistance = d }
            }
            nearest[key] = UInt16(best)
            indices[i] = UInt16(best)
        }
        return IndexedImage(width: image.width, height: image.height, palette: palette, indices: indices)
    }

    struct Bin {
        var count = 0
        var sum = (0, 0, 0)
    }

    /// A box of histogram bins: a range of the `bins` array, with its extent per channel.
    struct Box {
        var range: Range<Int>
        var pixels = 0
        var extent = (0, 0, 0)

        var longestChannel: Int { extent.0 >= extent.1 && extent.0 >= extent.2 ? 0 : extent.1 >= extent.2 ? 1 : 2 }
        var priority: Int { max(extent.0, extent.1, extent.2) * pixels }

        mutating func measure(_ bins: [Int], _ histogram: [Bin]) {
            var lo = (Int.max, Int.max, Int.max), hi = (Int.min, Int.min, Int.min)
            pixels = 0
            for j in range {
                let k = bins[j]
                pixels += histogram[k].count
                let c = (MedianCutQuantizer.channel(of: k, 0), MedianCutQuantizer.channel(of: k, 1), MedianCutQuantizer.channel(of: k, 2))
                lo = (min(lo.0, c.0), min(lo.1, c.1), min(lo.2, c.2))
                hi = (max(hi.0, c.0), max(hi.1, c.1), max(hi.2, c.2))
            }
            extent = (hi.0 - lo.0, hi.1 - lo.1, hi.2 - lo.2)
        }
    }

    static func binKey(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int {
        Int(r >> 3) << 10 | Int(g >> 3) << 5 | Int(b >> 3)
    }

    static func channel(of key: Int, _ c: Int) -> Int {
        (key >> (10 - 5 * c)) & 31
    }
}
