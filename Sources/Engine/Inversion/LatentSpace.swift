/// Where latents are optimised.
public enum LatentSpace: String, Sendable, Codable, CaseIterable {
    /// One w per frame, broadcast to every layer (NVIDIA's projector).
    case w
    /// One w per layer per frame.
    case wPlus = "w+"
    /// W+ whose fine layers (the 64 px block and above, or the last block of a smaller model) hold
    /// one value for a whole scene: texture stays put while pose and layout move (a known cure for
    /// flicker). `sequential` keeps them at the scene's first frame; `scene` keeps them equal at both
    /// ends of its line; `naive` and `smooth`, which see one frame at a time, treat it as W+.
    case wPlusSharedFine = "w+fine"

    /// How people write it: W, W+, W+fine.
    public var label: String {
        switch self {
        case .w: return "W"
        case .wPlus: return "W+"
        case .wPlusSharedFine: return "W+fine"
        }
    }

    /// Rows per sample in the optimised tensor: 1 or num_ws.
    public func rows(numWs: Int) -> Int { self == .w ? 1 : numWs }

    /// The ws rows shared per scene, or nil when none are.
    public func sharedRows(numWs: Int) -> Range<Int>? {
        guard self == .wPlusSharedFine else { return nil }
        // Block 2^k's layers start at row 2k - 5 (conv0); 64 px is k = 6.
        return (numWs >= 10 ? 7 : max(0, numWs - 3))..<numWs
    }

    /// Copies rows `rows` of every sample of `source` [N', R, w_dim] (N' = 1 broadcasts) into `latents` [N, R, w_dim].
    public static func copyRows(_ rows: Range<Int>, from source: Tensor, into latents: inout Tensor) {
        let (n, r, d) = (latents.shape[0], latents.shape[1], latents.shape[2])
        let sn = source.shape[0]
        source.withUnsafeBufferPointer { src in
            latents.withUnsafeMutableBufferPointer { dst in
                for s in 0..<n {
                    let from = (sn == 1 ? 0 : s) * r * d
                    for row in rows { for j in 0..<d { dst[s * r * d + row * d + j] = src[from + row * d + j] } }
                }
            }
        }
    }

    /// ws [N, num_ws, w_dim] from latents [N, rows, w_dim].
    public static func broadcast(_ latents: Tensor, numWs: Int) -> Tensor {
        let (n, rows, d) = (latents.shape[0], latents.shape[1], latents.shape[2])
        if rows == numWs { return latents }
        precondition(rows == 1)
        return Tensor(shape: [n, numWs, d]) { dst in
            latents.withUnsafeBufferPointer { src in
                for s in 0..<n { for l in 0..<numWs { for j in 0..<d { dst[(s * numWs + l) * d + j] = src[s * d + j] } } }
            }
        }
    }

    /// The adjoint of `broadcast`: gradients [N, num_ws, w_dim] summed to [N, rows, w_dim].
    public static func reduce(_ gws: Tensor, rows: Int) -> Tensor {
        let (n, numWs, d) = (gws.shape[0], gws.shape[1], gws.shape[2])
        if rows == numWs { return gws }
        return Tensor(shape: [n, 1, d]) { dst in
            gws.withUnsafeBufferPointer { src in
                for s in 0..<n { for l in 0..<numWs { for j in 0..<d { dst[s * d + j] += src[(s * numWs + l) * d + j] } } }
            }
        }
    }
}
