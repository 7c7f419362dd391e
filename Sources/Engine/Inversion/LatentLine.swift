/// The straight line between two latents of the same shape: start + t * (end - start), with t = 0 at
/// the start, 1 at the end, and outside [0, 1] extrapolating. The one place a latent along a line is
/// computed: the scene method's segments, its batches, the UI's scrubber and `interpolate` use it.
public struct LatentLine: Sendable {
    public var start: Tensor
    public var end: Tensor

    public init(start: Tensor, end: Tensor) {
        precondition(start.shape == end.shape, "a line between latents of shapes \(start.shape) and \(end.shape)")
        self.start = start
        self.end = end
    }

    /// The latent at `t`, in the ends' shape.
    public func latent(at t: Float) -> Tensor {
        latents(at: [t])
    }

    /// The latents at each of `ts`, stacked along a new first axis ([ts.count] + the ends' shape; a
    /// single t gives the ends' shape).
    public func latents(at ts: [Float]) -> Tensor {
        let n = start.count
        let shape = ts.count == 1 ? start.shape : [ts.count] + start.shape
        return Tensor(shape: shape) { p in
            start.withUnsafeBufferPointer { a in
                end.withUnsafeBufferPointer { e in
                    for (k, t) in ts.enumerated() {
                        for i in 0..<n { p[k * n + i] = a[i] + t * (e[i] - a[i]) }
                    }
                }
            }
        }
    }
}
