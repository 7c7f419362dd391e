/// A loss measured on images area-averaged down to `size` x `size`, as NVIDIA's projector feeds
/// VGG16 (`F.interpolate(..., size=(256, 256), mode='area')` for images larger than 256): a 1024 px
/// frame costs VGG what a 256 px one does (1.7 GB of activations a sample at full size). Images of
/// `size` or smaller go to the loss as they are.
public struct AreaDownsampledLoss: ImageLoss {
    public let inner: any ImageLoss
    public let size: Int

    public init(_ inner: any ImageLoss, size: Int = 256) {
        self.inner = inner
        self.size = size
    }

    public var name: String { inner.name }

    public func evaluate(
        _ prediction: Tensor, _ target: Tensor, accumulatingGradient gradient: inout Tensor?, scale: Float
    ) -> [Float] {
        let (n, c, h, w) = imageLossDimensions(name, prediction, target, gradient)
        guard h > size || w > size else { return inner.evaluate(prediction, target, accumulatingGradient: &gradient, scale: scale) }
        // Model resolutions are powers of two: whole factors, as 'area' mode then is a plain mean.
        precondition(h % size == 0 && w % size == 0, "\(name): \(h) x \(w) is not a whole multiple of \(size)")
        let (fy, fx) = (h / size, w / size)
        let small = [n, c, size, size]
        func down(_ x: Tensor) -> Tensor {
            Tensor(shape: small) { dst in
                x.withUnsafeBufferPointer { src in
                    let inv = 1 / Float(fy * fx)
                    for plane in 0..<(n * c) {
                        for y in 0..<size {
                            for xx in 0..<size {
                                var sum: Float = 0
                                for dy in 0..<fy { for dx in 0..<fx { sum += src[(plane * h + y * fy + dy) * w + xx * fx + dx] } }
                                dst[(plane * size + y) * size + xx] = sum * inv
                            }
                        }
                    }
                }
            }
        }
        var smallGradient: Tensor? = gradient != nil ? Tensor(zeros: small) : nil
        let values = inner.evaluate(down(prediction), down(target), accumulatingGradient: &smallGradient, scale: scale)
        if let g = smallGradient {
            // The mean's adjoint: each small pixel's gradient spread evenly over its block.
            let inv = 1 / Float(fy * fx)
            g.withUnsafeBufferPointer { src in
                gradient!.withUnsafeMutableBufferPointer { dst in
                    for plane in 0..<(n * c) {
                        for y in 0..<h { for xx in 0..<w { dst[(plane * h + y) * w + xx] += src[(plane * size + y / fy) * size + xx / fx] * inv } }
                    }
                }
            }
        }
        return values
    }
}
