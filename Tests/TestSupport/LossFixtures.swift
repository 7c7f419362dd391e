import Engine
import Foundation

/// Inputs for the loss tests, rebuilt from numpy's RandomState exactly as tools/make_loss_goldens.py
/// builds them (keep the two in step), and the goldens that script wrote.
public enum LossFixtures {
    /// (prediction, target) [n, c, h, w] float32 in [-1, 1]: a sine pattern plus noise, and a copy with
    /// more noise (0.1 + 0.2 s for sample s), as `images` in the script.
    public static func images(seed: UInt32, n: Int, c: Int, h: Int, w: Int) -> (prediction: Tensor, target: Tensor) {
        var random = NumpyRandomState(seed: seed)
        let count = n * c * h * w
        let a = random.randn(count), b = random.randn(count)
        var prediction = [Float](repeating: 0, count: count), target = [Float](repeating: 0, count: count)
        for s in 0..<n {
            for ch in 0..<c {
                for i in 0..<h {
                    for j in 0..<w {
                        let k = ((s * c + ch) * h + i) * w + j
                        let pattern = 0.6 * sin(0.21 * Double(i) + 0.13 * Double(j) + 0.7 * Double(ch) + 1.3 * Double(s))
                        let t = min(max(pattern + 0.25 * a[k], -1), 1)
                        let p = min(max(t + (0.1 + 0.2 * Double(s)) * b[k], -1), 1)
                        target[k] = Float(t)
                        prediction[k] = Float(p)
                    }
                }
            }
        }
        return (Tensor(shape: [n, c, h, w], values: prediction), Tensor(shape: [n, c, h, w], values: target))
    }

    /// Noise maps as the script's `noise_maps`: RandomState(seed).randn(shape) as float32.
    public static func noise(seed: UInt32, shape: [Int]) -> Tensor {
        var random = NumpyRandomState(seed: seed)
        return Tensor(shape: shape, values: random.randn(shape.reduce(1, *)).map { Float($0) })
    }

    public struct ImageCase: Decodable, Sendable {
        public let name: String
        public let seed: UInt32
        public let shape: [Int]
        public let scales: Int
        public let laplacian_levels: Int
        public let msssim: [Double]
        public let laplacian_l1: [Double]
        public let l1: [Double]
        public let mse: [Double]
    }

    public struct NoiseCase: Decodable, Sendable {
        public let name: String
        public let seed: UInt32
        public let shape: [Int]
        public let values: [Double]
    }

    public struct Goldens: Decodable, Sendable {
        public let images: [ImageCase]
        public let noise: [NoiseCase]
    }

    /// Tests/Fixtures/losses/goldens.json.
    public static func goldens() throws -> Goldens {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("losses/goldens.json")))
        return try JSONDecoder().decode(Goldens.self, from: data)
    }
}
