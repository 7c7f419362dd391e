import Engine
import Testing

@Suite("area resampling and fitting")
struct AreaResamplerTests {
    static func noise(_ width: Int, _ height: Int, seed: UInt64 = 1) -> RGBImage {
        var state = seed
        let pixels = (0..<(width * height * 3)).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    @Test(arguments: [(64, 36, 64, 36), (640, 360, 64, 36), (100, 70, 33, 21), (37, 23, 90, 50), (50, 50, 50, 7), (9, 9, 4, 13)])
    func fastPathMatchesTheReference(w: Int, h: Int, ow: Int, oh: Int) {
        let image = Self.noise(w, h)
        let fast = AreaResampler.resize(image, width: ow, height: oh)
        let slow = AreaResampler.reference(image, width: ow, height: oh)
        let worst = zip(fast.pixels, slow.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        // Separable float32 sums against a float64 double sum of the same weights: ~1e-4 levels apart,
        // so both round to the same byte except where the value sits that close to a half level, and
        // there to neighbours. 1 level is the bound; 0 would depend on the noise's luck.
        #expect(worst <= 1, "\(w)x\(h) -> \(ow)x\(oh): off by \(worst)")
    }

    /// The display's resize (`.nearest`): both axes growing take the byte-copying path, one growing
    /// and one shrinking the general one; both must be the reference's pixels. A growing axis reads
    /// one source pixel with weight 1, so the sums are exact and no rounding slack is needed there;
    /// the shrinking axis gets the same 1-level bound as above.
    @Test(arguments: [(16, 9, 64, 36), (5, 3, 17, 11), (64, 64, 200, 20), (30, 12, 7, 40)])
    func nearestEnlargingMatchesTheReference(w: Int, h: Int, ow: Int, oh: Int) {
        let image = Self.noise(w, h, seed: 3)
        let fast = AreaResampler.resize(image, width: ow, height: oh, enlarging: .nearest)
        let slow = AreaResampler.reference(image, width: ow, height: oh, enlarging: .nearest)
        let worst = zip(fast.pixels, slow.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(worst <= (ow >= w && oh >= h ? 0 : 1), "\(w)x\(h) -> \(ow)x\(oh): off by \(worst)")
        if ow >= w && oh >= h {
            // Every output pixel is a source pixel: the 2x2 corner block of a 4x enlargement is one.
            let up = AreaResampler.resize(image, width: w * 4, height: h * 4, enlarging: .nearest)
            #expect(Array(up.pixels[0..<3]) == Array(image.pixels[0..<3]) && Array(up.pixels[9..<12]) == Array(image.pixels[0..<3]))
        }
    }

    @Test func integerFactorsAverageBlocks() {
        let image = Self.noise(8, 4)
        let half = AreaResampler.resize(image, width: 4, height: 2)
        for y in 0..<2 {
            for x in 0..<4 {
                for c in 0..<3 {
                    let sum = [(0, 0), (1, 0), (0, 1), (1, 1)].reduce(0) { $0 + Int(image.pixels[((2 * y + $1.1) * 8 + 2 * x + $1.0) * 3 + c]) }
                    #expect(Int(half.pixels[(y * 4 + x) * 3 + c]) == Int((Double(sum) / 4).rounded()))
                }
            }
        }
    }

    @Test func fineStripesAverageToGreyInsteadOfAliasing() {
        // One-pixel black and white columns shrunk 3:1 (odd factor, where skipping pixels aliases).
        let w = 90, h = 6
        let pixels = (0..<(w * h)).flatMap { i -> [UInt8] in let v: UInt8 = (i % w) % 2 == 0 ? 0 : 255; return [v, v, v] }
        let small = AreaResampler.resize(RGBImage(width: w, height: h, pixels: pixels), width: 30, height: 2)
        for v in small.pixels { #expect(abs(Int(v) - 127) <= 43) }  // each output averages 3 columns: 85 or 170
        let mean = Double(small.pixels.reduce(0) { $0 + Int($1) }) / Double(small.pixels.count)
        #expect(abs(mean - 127.5) < 1)  // 85s and 170s alternate: 127.5 up to one level of byte rounding
    }

    @Test func layouts() {
        #expect(FitPolicy.centerCrop.layout(width: 640, height: 360, side: 64)
            == FitPolicy.Layout(crop: (140, 0, 360, 360), scaledWidth: 64, scaledHeight: 64, offsetX: 0, offsetY: 0))
        #expect(FitPolicy.letterbox.layout(width: 640, height: 360, side: 64)
            == FitPolicy.Layout(crop: (0, 0, 640, 360), scaledWidth: 64, scaledHeight: 36, offsetX: 0, offsetY: 14))
        #expect(FitPolicy.letterbox.layout(width: 360, height: 640, side: 64)
            == FitPolicy.Layout(crop: (0, 0, 360, 640), scaledWidth: 36, scaledHeight: 64, offsetX: 14, offsetY: 0))
        #expect(FitPolicy.stretch.layout(width: 640, height: 360, side: 64)
            == FitPolicy.Layout(crop: (0, 0, 640, 360), scaledWidth: 64, scaledHeight: 64, offsetX: 0, offsetY: 0))
        #expect(FitPolicy.centerCrop.ffmpegFilter(width: 640, height: 360, side: 64) == "crop=360:360:140:0,scale=64:64:flags=area")
        #expect(FitPolicy.letterbox.ffmpegFilter(width: 640, height: 360, side: 64) == "scale=64:36:flags=area,pad=64:64:0:14:black")
    }

    @Test func centerCropKeepsTheMiddle() {
        // Left third red, middle third green, right third blue: the square crop is all green.
        let w = 90, h = 30
        let pixels = (0..<(w * h)).flatMap { i -> [UInt8] in
            let x = i % w
            return x < 30 ? [255, 0, 0] : x < 60 ? [0, 255, 0] : [0, 0, 255]
        }
        let fitted = FitPolicy.centerCrop.fit(RGBImage(width: w, height: h, pixels: pixels), side: 10)
        #expect(fitted == RGBImage(width: 10, height: 10, fill: (0, 255, 0)))
        let boxed = FitPolicy.letterbox.fit(RGBImage(width: w, height: h, pixels: pixels), side: 9)
        #expect(boxed.pixels[0..<3] == [0, 0, 0] && boxed.pixels[(4 * 9 + 4) * 3 + 1] == 255)
    }
}
