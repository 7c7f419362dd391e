import Engine
import Testing
import TUI

@Suite("Sixel encoder: format, and a round trip through ImageMagick")
struct SixelEncoderTests {
    /// A smooth gradient with a few hard edges: more colours than registers, so quantisation shows.
    static func gradient(width: Int, height: Int) -> RGBImage {
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                let inBox = x > width / 3 && x < width / 2 && y > height / 4 && y < height / 2
                pixels += inBox ? [250, 250, 20] : [UInt8(x * 255 / (width - 1)), UInt8(y * 255 / (height - 1)), UInt8(128 + (x + y) % 64)]
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    @Test func aTinyImageEncodesAsTheSpecDescribes() {
        // 2x2: red, green over blue, white: four registers, one band, each colour's own row of sixels.
        let image = RGBImage(width: 2, height: 2, pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])
        let text = String(decoding: SixelEncoder().encode(image), as: UTF8.self)
        #expect(text == "\u{1B}P0;1;0q\"1;1;2;2#0;2;100;0;0#1;2;0;100;0#2;2;0;0;100#3;2;100;100;100#0@$#1?@$#2A$#3?A\u{1B}\\")
    }

    @Test func runsAreLengthEncoded() {
        let image = RGBImage(width: 10, height: 6, pixels: [UInt8](repeating: 255, count: 10 * 6 * 3))
        let text = String(decoding: SixelEncoder().encode(image), as: UTF8.self)
        #expect(text.hasSuffix("#0!10~\u{1B}\\"))
    }

    @Test func fewColoursRoundTripExactly() throws {
        let image = RGBImage(width: 13, height: 11, pixels: (0..<(13 * 11)).flatMap { i -> [UInt8] in
            [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 128, 255]][(i * 7 / 5) % 4]
        })
        let decoded = try ImageMagick.decodeSixel(SixelEncoder().encode(image))
        #expect(decoded.width == 13 && decoded.height == 11)
        // Only the percent encoding of the palette loses anything: a percent step is 2.55 levels, so
        // rounding to it costs <= 1.275 and the decoder's return to an integer <= 1 more: <= 2 levels.
        let worst = zip(decoded.pixels, image.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(worst <= 2)
    }

    @Test(arguments: [256, 16])
    func gradientsRoundTripWithinTheQuantisationError(registers: Int) throws {
        let image = Self.gradient(width: 97, height: 61)   // not a multiple of 6 high
        let encoder = SixelEncoder(maxColors: registers)
        let indexed = MedianCutQuantizer(maxColors: registers).quantize(image)
        #expect(indexed.palette.count <= registers)
        let decoded = try ImageMagick.decodeSixel(encoder.encode(indexed))
        #expect(decoded.width == 97 && decoded.height == 61)
        // Every decoded pixel is within the quantisation error of the original (the distance from
        // the original to its palette colour) plus the percent rounding of the sixel palette...
        var worstBeyondQuantisation = 0, worstToPalette = 0
        var quantisationError = 0
        for i in 0..<(97 * 61) {
            let c = indexed.palette[Int(indexed.indices[i])]
            for (k, v) in [c.r, c.g, c.b].enumerated() {
                let original = Int(image.pixels[i * 3 + k])
                let quantised = abs(Int(v) - original)
                quantisationError += quantised
                worstToPalette = max(worstToPalette, abs(Int(decoded.pixels[i * 3 + k]) - Int(v)))
                worstBeyondQuantisation = max(worstBeyondQuantisation, abs(Int(decoded.pixels[i * 3 + k]) - original) - quantised)
            }
        }
        // Integer levels; the same percent-palette argument as above: <= 1.275 + 1 -> 2.
        #expect(worstBeyondQuantisation <= 2)
        #expect(worstToPalette <= 2)
        // ...and that error is what median cut should reach with this many colours on a smooth image:
        // k boxes tiling the r x g sheet (256 x 256 levels) have sides ~256 / sqrt(k), and a uniform
        // spread over a side s is off by s / 4 on average: 4 levels for 256 colours, 16 for 16 (18 with
        // the yellow box and b's sawtooth taking boxes too).
        let mean = Double(quantisationError) / Double(97 * 61 * 3)
        #expect(mean < (registers == 256 ? 4.0 : 18.0), "mean quantisation error \(mean)")
    }
}
