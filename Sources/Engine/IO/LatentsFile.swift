/// Latents on disk: `.npy`, or `.npz` with key `w` like the official projector's `projected_w.npz`.
public enum LatentsFile {
    /// ws [N, num_ws, w_dim], read from [N, num_ws, w_dim], [num_ws, w_dim] (one sample) or
    /// [N, w_dim] (W, broadcast to every layer). Shapes that fit none of these name the file.
    public static func read(path: String, numWs: Int, wDim: Int) throws -> Tensor {
        try readWithFrames(path: path, numWs: numWs, wDim: wDim).ws
    }

    /// The same, and the `frames` array a session's export lists beside `w` (nil when absent).
    public static func readWithFrames(path: String, numWs: Int, wDim: Int) throws -> (ws: Tensor, frames: Tensor?) {
        let raw: Tensor
        var frames: Tensor?
        if path.hasSuffix(".npz") {
            let arrays = try NpzArchive.read(path: path)
            guard let w = arrays["w"] ?? (arrays.count == 1 ? arrays.first!.value : nil) else {
                throw LinstoryError(.notFound, file: path, "no array 'w' (has: \(arrays.keys.sorted().joined(separator: ", ")))")
            }
            raw = w
            frames = arrays["frames"]
        } else if path.hasSuffix(".npy") {
            raw = try NpyArray.read(path: path)
        } else {
            throw LinstoryError(.wrongFormat, file: path, "latents must be a .npy or .npz file")
        }
        if let bad = raw.withUnsafeBufferPointer({ $0.firstIndex { !$0.isFinite } }) {
            throw LinstoryError(.corrupt, file: path, "latents hold \(raw[flat: bad]) at element \(bad)")
        }
        let s = raw.shape
        if s.count == 3, s[1] == numWs, s[2] == wDim { return (raw, frames) }
        if s.count == 2, s == [numWs, wDim] { return (raw.reshaped([1, numWs, wDim]), frames) }
        if s.count == 2, s[1] == wDim {
            let n = s[0]
            return (Tensor(shape: [n, numWs, wDim]) { dst in
                raw.withUnsafeBufferPointer { src in
                    for i in 0..<n { for l in 0..<numWs { for j in 0..<wDim { dst[(i * numWs + l) * wDim + j] = src[i * wDim + j] } } }
                }
            }, frames)
        }
        throw LinstoryError(.mismatch, file: path, "latents have shape \(s); this model needs [N, \(numWs), \(wDim)] or [N, \(wDim)]")
    }
}
