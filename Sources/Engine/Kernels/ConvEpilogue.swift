// The forward epilogue of a modulated conv layer, over one (channel, sample) run of pixels; its
// backward is `convEpilogueBackward` (EpilogueBackward.swift).
//
// Dimension letters: N batch, O output channels, R x R the grid. Activations are [O, N, R, R].

/// A conv layer's output stage, in NVIDIA's order: demodulate, add noise and bias, lrelu * sqrt(2),
/// clamp. Reads y0 and writes out ([O, N, R, R] both) for one (channel, sample) run of pixels.
struct ConvEpilogue: @unchecked Sendable {
    let y0: UnsafePointer<Float>  // [O, N, R, R]
    let out: UnsafeMutablePointer<Float>  // [O, N, R, R]
    let d: UnsafePointer<Float>  // [N, O]
    let noise: UnsafePointer<Float>  // [N or 1, R, R]
    let bias: UnsafePointer<Float>  // [O], valid while the layer lives
    let strength: Float
    let clamp: Float
    let hasNoise: Bool
    let perSample: Bool
    let batch: Int
    let channels: Int
    let hw: Int

    init(_ l: SynthesisLayer, _ st: SynthesisWorkspace.ConvState, bias: UnsafePointer<Float>, batch n: Int) {
        y0 = UnsafePointer(st.y0.pointer)
        out = st.out.pointer
        d = UnsafePointer(st.d.pointer)
        noise = UnsafePointer(st.noise.pointer)
        self.bias = bias
        strength = l.noiseStrength[flat: 0]
        clamp = l.convClamp ?? .infinity
        hasNoise = st.hasNoise
        perSample = st.noisePerSample
        batch = n
        channels = l.outChannels
        hw = l.resolution * l.resolution
    }

    @inline(__always)
    func apply(channel o: Int, sample smp: Int, pixels: Range<Int>) {
        let gain = Float(2).squareRoot()
        let dv = d[smp * channels + o]
        let base = (o * batch + smp) * hw
        let yRow = y0 + base
        let outRow = out + base
        let b = bias[o]
        let clamp = clamp
        if hasNoise {
            let noiseRow = noise + (perSample ? smp * hw : 0)
            let strength = strength
            for p in pixels {
                var v = yRow[p] * dv + noiseRow[p] * strength + b
                v = (v > 0 ? v : v * 0.2) * gain
                outRow[p] = min(max(v, -clamp), clamp)
            }
        } else {
            for p in pixels {
                var v = yRow[p] * dv + b
                v = (v > 0 ? v : v * 0.2) * gain
                outRow[p] = min(max(v, -clamp), clamp)
            }
        }
    }
}
