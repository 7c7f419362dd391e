/// An 8-bit RGB image, the form frames take on disk: `pixels` is `[height, width, 3]`, row-major,
/// interleaved R, G, B.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "negative image size \(width)x\(height)")
        precondition(pixels.count == width * height * 3, "\(pixels.count) bytes is not \(width)x\(height) RGB")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A black image.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
    }

    /// Quantises a generator output, a `[3, H, W]` tensor nominally in [-1, 1], exactly as NVIDIA's
    /// StyleGAN2 generate.py does: `(x * 127.5 + 128).clamp(0, 255).to(torch.uint8)`.
    ///
    /// The +128 (not +127.5) together with the truncating cast amounts to rounding half up, so -1
    /// maps to 0 (0.5 truncates), 0 to 128 and 1 to 255 (255.5 clamps). Matching it bit for bit
    /// keeps our frames identical to the reference implementation's. NaN becomes 0 rather than
    /// trapping, since a diverged network must not crash the tool.
    public init(tensor: Tensor) {
        precondition(tensor.rank == 3 && tensor.shape[0] == 3, "expected a [3, H, W] tensor, got \(tensor.shape)")
        let height = tensor.shape[1], width = tensor.shape[2]
        let plane = height * width
        var pixels = [UInt8](repeating: 0, count: plane * 3)
        tensor.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    for i in 0..<plane { dst[i * 3 + c] = Self.quantise(src[c * plane + i]) }
                }
            }
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// The image as a `[3, H, W]` tensor in [-1, 1], `x / 127.5 - 1`: the scale a target image is
    /// compared at against generator output.
    public func tensor() -> Tensor {
        let plane = height * width
        return Tensor(shape: [3, height, width]) { dst in
            pixels.withUnsafeBufferPointer { src in
                for c in 0..<3 {
                    for i in 0..<plane { dst[c * plane + i] = Float(src[i * 3 + c]) / 127.5 - 1 }
                }
            }
        }
    }

    @inline(__always)
    static func quantise(_ x: Float) -> UInt8 {
        let v = x * 127.5 + 128
        // Written so that NaN fails the first test; UInt8(_: Float) truncates toward zero like torch's cast.
        if !(v > 0) { return 0 }
        if v >= 255 { return 255 }
        return UInt8(v)
    }
}
