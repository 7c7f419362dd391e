/// NVIDIA's `MappingNetwork` (c_dim = 0): z -> normalize_2nd_moment -> fc0 ... fc{L-1} -> w,
/// broadcast to `num_ws`, then truncation towards `w_avg`.
public struct MappingNetwork: Sendable {
    public var layers: [FullyConnectedLayer]  // fc0 ..< fc{L}
    public var wAvg: Tensor  // [w_dim]
    public let numWs: Int

    public var zDim: Int { layers[0].inFeatures }
    public var wDim: Int { layers[layers.count - 1].outFeatures }

    /// ws [N, num_ws, w_dim] for z [N, z_dim], truncated with `psi` on the first `cutoff` ws (all if nil).
    public func callAsFunction(_ z: Tensor, truncationPsi psi: Float = 1, truncationCutoff cutoff: Int? = nil) -> Tensor {
        let w = run(z).last!
        return broadcast(w, rows: z.shape[0], psi: psi, cutoff: cutoff)
    }

    /// Truncation alone: w_avg.lerp(ws, psi) on layers ..< cutoff of ws [N, num_ws, w_dim].
    public func truncate(_ ws: Tensor, psi: Float, cutoff: Int? = nil) -> Tensor {
        if psi == 1 { return ws }
        var out = ws
        let n = ws.shape[0]
        let d = wDim
        let layersCut = min(cutoff ?? numWs, numWs)
        wAvg.withUnsafeBufferPointer { avg in
            out.withUnsafeMutableBufferPointer { o in
                for s in 0..<n {
                    for l in 0..<layersCut {
                        let base = (s * numWs + l) * d
                        for j in 0..<d { o[base + j] = avg[j] + psi * (o[base + j] - avg[j]) }
                    }
                }
            }
        }
        return out
    }

    /// The gradient of sum(mapping(z) * upstream) for upstream gws [N, num_ws, w_dim] (psi = 1):
    /// gz [N, z_dim] and, when asked, every parameter's gradient by official name.
    public func backward(
        _ z: Tensor, upstream gws: Tensor, parameterGradients: Bool
    ) -> (gz: Tensor, parameters: [String: Tensor]) {
        let n = z.shape[0]
        let acts = run(z)  // [0] = normalised z, [l + 1] = output of fc{l}
        // Broadcast backward: the same w feeds every layer.
        var g = Tensor(zeros: [n, wDim])
        gws.withUnsafeBufferPointer { src in
            g.withUnsafeMutableBufferPointer { dst in
                for s in 0..<n { for l in 0..<numWs { for j in 0..<wDim { dst[s * wDim + j] += src[(s * numWs + l) * wDim + j] } } }
            }
        }
        var params: [String: Tensor] = [:]
        for (index, layer) in layers.enumerated().reversed() {
            var gx = Tensor(zeros: [n, layer.inFeatures])
            var gW = Tensor(zeros: layer.weight.shape)
            var gB = Tensor(zeros: layer.bias.shape)
            acts[index].withUnsafeBufferPointer { x in
                acts[index + 1].withUnsafeBufferPointer { y in
                    g.withUnsafeMutableBufferPointer { gy in
                        gx.withUnsafeMutableBufferPointer { gxp in
                            gW.withUnsafeMutableBufferPointer { gw in
                                gB.withUnsafeMutableBufferPointer { gb in
                                    layer.backward(
                                        x: x.baseAddress!, y: y.baseAddress!, gy: gy.baseAddress!, rows: n,
                                        ldx: layer.inFeatures, ldy: layer.outFeatures, gx: gxp.baseAddress!,
                                        ldgx: layer.inFeatures,
                                        gWeight: parameterGradients ? gw.baseAddress! : nil,
                                        gBias: parameterGradients ? gb.baseAddress! : nil)
                                }
                            }
                        }
                    }
                }
            }
            if parameterGradients {
                params["mapping.fc\(index).weight"] = gW
                params["mapping.fc\(index).bias"] = gB
            }
            g = gx
        }
        // normalize_2nd_moment backward: y = x r, r = (mean(x^2) + 1e-8)^-1/2.
        var gz = Tensor(zeros: z.shape)
        let dz = zDim
        z.withUnsafeBufferPointer { x in
            g.withUnsafeBufferPointer { gy in
                gz.withUnsafeMutableBufferPointer { out in
                    for s in 0..<n {
                        var sq: Float = 0
                        var dot: Float = 0
                        for j in 0..<dz {
                            sq += x[s * dz + j] * x[s * dz + j]
                            dot += gy[s * dz + j] * x[s * dz + j]
                        }
                        let r = 1 / (sq / Float(dz) + 1e-8).squareRoot()
                        for j in 0..<dz {
                            out[s * dz + j] = r * gy[s * dz + j] - r * r * r * x[s * dz + j] * dot / Float(dz)
                        }
                    }
                }
            }
        }
        return (gz, params)
    }

    /// Every activation: [normalised z, fc0 out, ..., w] each [N, features].
    func run(_ z: Tensor) -> [Tensor] {
        precondition(z.rank == 2 && z.shape[1] == zDim, "z must be [N, \(zDim)], got \(z.shape)")
        let n = z.shape[0]
        var x = Tensor(zeros: z.shape)
        z.withUnsafeBufferPointer { src in
            x.withUnsafeMutableBufferPointer { dst in
                for s in 0..<n {
                    var sq: Float = 0
                    for j in 0..<zDim { sq += src[s * zDim + j] * src[s * zDim + j] }
                    let r = 1 / (sq / Float(zDim) + 1e-8).squareRoot()
                    for j in 0..<zDim { dst[s * zDim + j] = src[s * zDim + j] * r }
                }
            }
        }
        var acts = [x]
        for layer in layers {
            var y = Tensor(zeros: [n, layer.outFeatures])
            acts[acts.count - 1].withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    layer.forward(xp.baseAddress!, rows: n, ldx: layer.inFeatures, into: yp.baseAddress!, ldy: layer.outFeatures)
                }
            }
            acts.append(y)
        }
        return acts
    }

    private func broadcast(_ w: Tensor, rows n: Int, psi: Float, cutoff: Int?) -> Tensor {
        var ws = Tensor(zeros: [n, numWs, wDim])
        w.withUnsafeBufferPointer { src in
            ws.withUnsafeMutableBufferPointer { dst in
                for s in 0..<n { for l in 0..<numWs { for j in 0..<wDim { dst[(s * numWs + l) * wDim + j] = src[s * wDim + j] } } }
            }
        }
        return truncate(ws, psi: psi, cutoff: cutoff)
    }
}
