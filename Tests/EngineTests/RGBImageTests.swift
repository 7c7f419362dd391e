import Engine
import Testing

/// One pixel, all three channels set to `x`, quantised.
private func quantised(_ x: Float) -> [UInt8] {
    RGBImage(tensor: Tensor(shape: [3, 1, 1], values: [x, x, x])).pixels
}

@Suite struct RGBImageTests {
    /// generate.py: (x * 127.5 + 128).clamp(0, 255).to(uint8), the cast truncating toward zero.
    @Test(arguments: [
        (Float(-1), UInt8(0)),   // -127.5 + 128 = 0.5, truncated
        (0, 128),
        (1, 255),                // 255.5 clamped
        (0.5, 191),              // 191.75
        (-0.5, 64),              // 64.25
        (-0.997, 0),             // 0.8825
        (-0.996, 1),             // 1.01
        (0.9921568, 254),        // 254.5 in float32, truncated (no rounding to even or up)
        (-3, 0),
        (7, 255),
        (.infinity, 255),
        (-.infinity, 0),
        (.nan, 0),
    ])
    func quantisesLikeGeneratePy(x: Float, expected: UInt8) {
        #expect(quantised(x) == [expected, expected, expected])
    }

    @Test func targetScale() {
        let t = RGBImage(width: 3, height: 1, pixels: [0, 0, 0, 255, 255, 255, 128, 128, 128]).tensor()
        #expect(t.shape == [3, 1, 3])
        #expect(t.scalars == [-1, 1, Float(128) / 127.5 - 1, -1, 1, Float(128) / 127.5 - 1, -1, 1, Float(128) / 127.5 - 1])
    }

    /// Every byte survives image -> [-1, 1] -> image: v / 127.5 - 1 maps back to v + 0.5 before the
    /// truncating cast, comfortably inside the bucket.
    @Test func everyByteRoundTrips() {
        let values = (0...255).map(UInt8.init)
        let img = RGBImage(width: 256, height: 1, pixels: values.flatMap { [$0, 255 - $0, $0 / 2] })
        #expect(RGBImage(tensor: img.tensor()) == img)
    }

    /// Tensors are planar [3, H, W]; images are interleaved [H, W, 3].
    @Test func layout() {
        // 2 rows x 3 columns; channel c, row y, column x holds a distinct value.
        var values: [Float] = []
        for c in 0..<3 { for y in 0..<2 { for x in 0..<3 { values.append(Float(c * 6 + y * 3 + x) / 127.5 - 1) } } }
        let img = RGBImage(tensor: Tensor(shape: [3, 2, 3], values: values))
        #expect(img.width == 3 && img.height == 2)
        for y in 0..<2 {
            for x in 0..<3 {
                for c in 0..<3 { #expect(img.pixels[(y * 3 + x) * 3 + c] == UInt8(c * 6 + y * 3 + x)) }
            }
        }
        #expect(img.tensor().shape == [3, 2, 3])
        #expect(RGBImage(tensor: img.tensor()) == img)
    }
}
