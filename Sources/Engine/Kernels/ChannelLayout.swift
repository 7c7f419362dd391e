// Conversions between the synthesis workspace's channel-major layout [C, N, R, R] ("CNHW", so a
// batch shares each layer's GEMM) and the public tensors' [N, C, R, R].
//
// Dimension letters: N batch, C channels, R x R the grid.

enum ChannelLayout {
    /// [C, N, R, R] (workspace layout) -> Tensor [N, C, R, R].
    static func toNCHW(_ src: UnsafePointer<Float>, channels c: Int, batch n: Int, resolution r: Int) -> Tensor {
        let hw = r * r
        return Tensor(shape: [n, c, r, r]) { dst in
            for ch in 0..<c { for s in 0..<n { (dst.baseAddress! + (s * c + ch) * hw).update(from: src + (ch * n + s) * hw, count: hw) } }
        }
    }

    /// Tensor data [N, C, R, R] -> dst [C, N, R, R] (workspace layout).
    static func fromNCHW(_ src: UnsafePointer<Float>, channels c: Int, batch n: Int, resolution r: Int, into dst: UnsafeMutablePointer<Float>) {
        let hw = r * r
        for ch in 0..<c { for s in 0..<n { (dst + (ch * n + s) * hw).update(from: src + (s * c + ch) * hw, count: hw) } }
    }
}
