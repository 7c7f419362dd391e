/// Where latents are optimised.
public enum LatentSpace: String, Sendable, Codable, CaseIterable {
    /// One w per frame, broadcast to every layer (NVIDIA's projector).
    case w
    /// One w per layer per frame.
    case wPlus = "w+"

    /// Rows per sample in the optimised tensor: 1 or num_ws.
    public func rows(numWs: Int) -> Int { self == .w ? 1 : numWs }

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
