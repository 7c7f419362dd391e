/// Latents a user already has (NVIDIA's `projected_w.npz`, an earlier session's export), used as the
/// starting point of any method instead of w_avg: naive starts each frame from its own row, sequential
/// each scene's first frame (the rest warm-start as always), scene each line from a least-squares fit
/// through its frames' rows.
///
/// Rows map to the session's frames (window numbering) in one of three ways, decided when loaded:
/// one row for every frame (the official projector projects one image), one row per frame in order,
/// or the rows an export lists under `frames` (every session frame must be among them).
public struct InitialLatents: Sendable {
    /// [K, num_ws, w_dim]
    public let ws: Tensor
    /// The row of each window frame.
    let rowOfFrame: [Int]
    /// The window's first clip frame: the projectors see clip numbering.
    let first: Int
    /// What the session records: the file, so that a resumed run or another worker starts the same.
    public let identity: FileIdentity

    /// Reads `path` (.npz with key `w`, optionally `frames`; or .npy) for a window of `count` frames
    /// starting at clip frame `first`. Errors name the file and say what does not fit.
    public init(path: String, numWs: Int, wDim: Int, count: Int, first: Int = 0) throws {
        identity = try FileIdentity(path: path)
        let (ws, frames) = try LatentsFile.readWithFrames(path: path, numWs: numWs, wDim: wDim)
        let k = ws.shape[0]
        var listed: [Int]?
        if let frames {
            guard frames.rank == 1, frames.shape[0] == k else {
                throw LinstoryError(.mismatch, file: path, "'frames' has shape \(frames.shape) for \(k) latents")
            }
            listed = frames.scalars.map { Int($0) }
        }
        if let listed {
            var row = [Int: Int]()
            for (r, f) in listed.enumerated() { row[f] = r }
            let missing = (0..<count).filter { row[$0] == nil }
            if let m = missing.first {
                throw LinstoryError(
                    .mismatch, file: path,
                    "has no latents for \(missing.count) of the session's \(count) frames (the first: frame \(m)); its 'frames' list \(listed.count)")
            }
            rowOfFrame = (0..<count).map { row[$0]! }
        } else if k == 1 {
            rowOfFrame = Array(repeating: 0, count: count)
        } else if k == count {
            rowOfFrame = Array(0..<count)
        } else {
            throw LinstoryError(
                .mismatch, file: path, "holds \(k) latents for a session of \(count) frames (give one for every frame, or one per frame)")
        }
        self.ws = ws
        self.first = first
    }

    /// Window frame `frame`'s starting latents in `space`: [rows, w_dim] (W takes the mean of the
    /// layers' rows, which is the row itself for a W file).
    public func latents(clipFrame frame: Int, space: LatentSpace) -> Tensor {
        let local = min(max(frame - first, 0), rowOfFrame.count - 1)
        let (numWs, wDim) = (ws.shape[1], ws.shape[2])
        let row = ws.slice(rowOfFrame[local]..<(rowOfFrame[local] + 1)).reshaped([numWs, wDim])
        guard space == .w else { return row }
        return Tensor(shape: [1, wDim]) { dst in
            row.withUnsafeBufferPointer { src in
                for l in 0..<numWs { for j in 0..<wDim { dst[j] += src[l * wDim + j] } }
                for j in 0..<wDim { dst[j] /= Float(numWs) }
            }
        }
    }

    /// The least-squares line through frames `clipFrames`' latents, as (start, end) at t = 0 and 1
    /// with t spread evenly over the frames: where a scene's path starts when latents are given.
    public func line(clipFrames: [Int], space: LatentSpace) -> (start: Tensor, end: Tensor) {
        let rows = clipFrames.map { latents(clipFrame: $0, space: space) }
        let n = rows.count
        guard n > 1 else { return (rows[0], rows[0]) }
        // Fit w(t) = a + b t over t_i = i / (n - 1); start = a, end = a + b.
        let ts = (0..<n).map { Float($0) / Float(n - 1) }
        let tMean = ts.reduce(0, +) / Float(n)
        let tVar = ts.reduce(0) { $0 + ($1 - tMean) * ($1 - tMean) }
        let shape = rows[0].shape
        let count = rows[0].count
        var mean = [Float](repeating: 0, count: count)
        var slope = [Float](repeating: 0, count: count)
        for r in rows { r.withUnsafeBufferPointer { p in for j in 0..<count { mean[j] += p[j] / Float(n) } } }
        for (i, r) in rows.enumerated() {
            r.withUnsafeBufferPointer { p in for j in 0..<count { slope[j] += (ts[i] - tMean) * (p[j] - mean[j]) / tVar } }
        }
        let start = Tensor(shape: shape, values: (0..<count).map { mean[$0] - slope[$0] * tMean })
        let end = Tensor(shape: shape, values: (0..<count).map { mean[$0] + slope[$0] * (1 - tMean) })
        return (start, end)
    }
}
