// Separable up-sample + FIR filter + pad, as NVIDIA's `upfirdn2d` computes it (down = 1 only).
//
// For each axis: zero-insert the input by `up` (x at multiples of `up`, length L * up), pad by
// (pad0, pad1), then correlate with `taps`. NVIDIA convolves (flips the filter) unless flip_filter is
// set, so callers pass taps already flipped and with the gain folded in (gain^(1/2) per axis).
// Output length per axis: L * up + pad0 + pad1 - taps.count + 1.

/// One axis of an up-FIR-pad: the geometry shared by forward and backward.
public struct UpFirDnAxis: Sendable, Equatable {
    public var up: Int
    public var pad0: Int
    public var pad1: Int
    public var taps: [Float]

    public init(up: Int, pad0: Int, pad1: Int, taps: [Float]) {
        self.up = up
        self.pad0 = pad0
        self.pad1 = pad1
        self.taps = taps
    }

    public func outputLength(_ length: Int) -> Int { length * up + pad0 + pad1 - taps.count + 1 }
}

/// out [P, Hout, Wout] = upfirdn2d(x [P, H, W]); scratch holds at least H * Wout floats.
public func upFirDn2d(
    _ x: UnsafePointer<Float>, planes: Int, height: Int, width: Int, axis: UpFirDnAxis,
    into out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
) {
    let outW = axis.outputLength(width)
    let outH = axis.outputLength(height)
    let k = axis.taps.count
    axis.taps.withUnsafeBufferPointer { taps in
        for p in 0..<planes {
            let src = x + p * height * width
            let dst = out + p * outH * outW
            // Horizontal pass: [H, W] -> scratch [H, Wout].
            for h in 0..<height {
                let s = src + h * width
                let d = scratch + h * outW
                for ox in 0..<outW {
                    var acc: Float = 0
                    for t in 0..<k {
                        let q = ox + t - axis.pad0
                        if q >= 0 && q % axis.up == 0 {
                            let i = q / axis.up
                            if i < width { acc += taps[t] * s[i] }
                        }
                    }
                    d[ox] = acc
                }
            }
            // Vertical pass: scratch [H, Wout] -> out [Hout, Wout].
            for oy in 0..<outH {
                let d = dst + oy * outW
                d.update(repeating: 0, count: outW)
                for t in 0..<k {
                    let q = oy + t - axis.pad0
                    guard q >= 0 && q % axis.up == 0 else { continue }
                    let i = q / axis.up
                    guard i < height else { continue }
                    let s = scratch + i * outW
                    let wt = taps[t]
                    for ox in 0..<outW { d[ox] += wt * s[ox] }
                }
            }
        }
    }
}

/// gx [P, H, W] (+)= the adjoint of `upFirDn2d` applied to gout [P, Hout, Wout].
/// scratch holds at least H * Wout floats.
public func upFirDn2dBackward(
    _ gout: UnsafePointer<Float>, planes: Int, height: Int, width: Int, axis: UpFirDnAxis,
    into gx: UnsafeMutablePointer<Float>, accumulate: Bool, scratch: UnsafeMutablePointer<Float>
) {
    let outW = axis.outputLength(width)
    let outH = axis.outputLength(height)
    let k = axis.taps.count
    axis.taps.withUnsafeBufferPointer { taps in
        for p in 0..<planes {
            let g = gout + p * outH * outW
            let dst = gx + p * height * width
            // Vertical adjoint: gout [Hout, Wout] -> scratch [H, Wout].
            scratch.update(repeating: 0, count: height * outW)
            for oy in 0..<outH {
                let s = g + oy * outW
                for t in 0..<k {
                    let q = oy + t - axis.pad0
                    guard q >= 0 && q % axis.up == 0 else { continue }
                    let i = q / axis.up
                    guard i < height else { continue }
                    let d = scratch + i * outW
                    let wt = taps[t]
                    for ox in 0..<outW { d[ox] += wt * s[ox] }
                }
            }
            // Horizontal adjoint: scratch [H, Wout] -> gx [H, W].
            for h in 0..<height {
                let s = scratch + h * outW
                let d = dst + h * width
                if !accumulate { d.update(repeating: 0, count: width) }
                for ox in 0..<outW {
                    let v = s[ox]
                    for t in 0..<k {
                        let q = ox + t - axis.pad0
                        if q >= 0 && q % axis.up == 0 {
                            let i = q / axis.up
                            if i < width { d[i] += taps[t] * v }
                        }
                    }
                }
            }
        }
    }
}
