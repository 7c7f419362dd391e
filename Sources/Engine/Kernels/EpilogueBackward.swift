// The elementwise parts of a modulated conv layer's backward, over one (channel, sample) plane of
// R x R pixels: through the epilogue (clamp, lrelu * sqrt(2), noise, demodulation) and through the
// styles' scaling of the input. Each fast kernel keeps its plain loop beside it as the reference.

/// What `convEpilogueBackward` sums over one plane, in double (the sums cancel heavily).
public struct EpilogueBackwardSums: Equatable, Sendable {
    public var gradient: Double  // sum gv: the bias gradient's share
    public var gradientTimesY0: Double  // sum gv * y0: the demodulation's
    public var gradientTimesNoise: Double  // sum gv * noise: the noise strength's

    public init(gradient: Double = 0, gradientTimesY0: Double = 0, gradientTimesNoise: Double = 0) {
        self.gradient = gradient
        self.gradientTimesY0 = gradientTimesY0
        self.gradientTimesNoise = gradientTimesNoise
    }
}

/// Through clamp and lrelu * `gain` of one plane: gv = (|out| >= clamp ? 0 : g) * (out > 0 ? gain :
/// 0.2 gain); g <- gv * demod (the gradient of y0), gNoise += gv when noise is given; returns the sums
/// of gv, gv * y0 and gv * noise. Eight lanes at a time, sums in double.
@inline(__always)
public func convEpilogueBackward(
    out: UnsafePointer<Float>, gradient g: UnsafeMutablePointer<Float>, y0: UnsafePointer<Float>,
    noise: UnsafePointer<Float>?, gNoise: UnsafeMutablePointer<Float>?, count: Int, demod: Float, clamp: Float, gain: Float
) -> EpilogueBackwardSums {
    var sumG0 = SIMD4<Double>(), sumG1 = SIMD4<Double>()
    var sumY0 = SIMD4<Double>(), sumY1 = SIMD4<Double>()
    var sumN0 = SIMD4<Double>(), sumN1 = SIMD4<Double>()
    let clampV = SIMD8<Float>(repeating: clamp)
    let gainV = SIMD8<Float>(repeating: gain)
    let slopeV = SIMD8<Float>(repeating: gain * 0.2)
    let zero = SIMD8<Float>()
    var p = 0
    while p + 8 <= count {
        let v = loadFloats8(out + p)
        var gv = loadFloats8(g + p)
        gv.replace(with: zero, where: (v .>= clampV) .| (v .<= -clampV))
        gv *= gainV.replacing(with: slopeV, where: .!(v .> zero))
        sumG0 += widenLow(gv)
        sumG1 += widenHigh(gv)
        let gy = gv * loadFloats8(y0 + p)
        sumY0 += widenLow(gy)
        sumY1 += widenHigh(gy)
        if let noise, let gNoise {
            let gn = gv * loadFloats8(noise + p)
            sumN0 += widenLow(gn)
            sumN1 += widenHigh(gn)
            storeFloats8(loadFloats8(gNoise + p) + gv, gNoise + p)
        }
        storeFloats8(gv * demod, g + p)
        p += 8
    }
    var sums = EpilogueBackwardSums(
        gradient: (sumG0 + sumG1).sum(), gradientTimesY0: (sumY0 + sumY1).sum(), gradientTimesNoise: (sumN0 + sumN1).sum())
    if p < count {
        let rest = convEpilogueBackwardReference(
            out: out + p, gradient: g + p, y0: y0 + p, noise: noise.map { $0 + p }, gNoise: gNoise.map { $0 + p },
            count: count - p, demod: demod, clamp: clamp, gain: gain)
        sums.gradient += rest.gradient
        sums.gradientTimesY0 += rest.gradientTimesY0
        sums.gradientTimesNoise += rest.gradientTimesNoise
    }
    return sums
}

/// The plain loop `convEpilogueBackward` must equal (elementwise exactly; sums up to their order).
public func convEpilogueBackwardReference(
    out: UnsafePointer<Float>, gradient g: UnsafeMutablePointer<Float>, y0: UnsafePointer<Float>,
    noise: UnsafePointer<Float>?, gNoise: UnsafeMutablePointer<Float>?, count: Int, demod: Float, clamp: Float, gain: Float
) -> EpilogueBackwardSums {
    var sums = EpilogueBackwardSums()
    for p in 0..<count {
        let v = out[p]
        var gv = (v >= clamp || v <= -clamp) ? 0 : g[p]
        gv *= v > 0 ? gain : gain * 0.2
        sums.gradient += Double(gv)
        sums.gradientTimesY0 += Double(gv * y0[p])
        if let noise, let gNoise {
            sums.gradientTimesNoise += Double(gv * noise[p])
            gNoise[p] += gv
        }
        g[p] = gv * demod
    }
    return sums
}

/// Through the styles' scaling of one input plane: gx += gxs * scale; returns sum gxs * x (the
/// style's gradient from this plane). Eight lanes at a time.
@inline(__always)
public func styleScaleBackward(
    gxs: UnsafePointer<Float>, x: UnsafePointer<Float>, gx: UnsafeMutablePointer<Float>, scale: Float, count: Int
) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    var p = 0
    while p + 16 <= count {
        let g0 = loadFloats8(gxs + p)
        let g1 = loadFloats8(gxs + p + 8)
        acc0 += g0 * loadFloats8(x + p)
        acc1 += g1 * loadFloats8(x + p + 8)
        storeFloats8(loadFloats8(gx + p) + g0 * scale, gx + p)
        storeFloats8(loadFloats8(gx + p + 8) + g1 * scale, gx + p + 8)
        p += 16
    }
    var sum = (acc0 + acc1).sum()
    if p < count { sum += styleScaleBackwardReference(gxs: gxs + p, x: x + p, gx: gx + p, scale: scale, count: count - p) }
    return sum
}

/// The plain loop `styleScaleBackward` must equal (gx exactly; the sum up to its order).
public func styleScaleBackwardReference(
    gxs: UnsafePointer<Float>, x: UnsafePointer<Float>, gx: UnsafeMutablePointer<Float>, scale: Float, count: Int
) -> Float {
    var acc: Float = 0
    for p in 0..<count {
        acc += gxs[p] * x[p]
        gx[p] += gxs[p] * scale
    }
    return acc
}

// MARK: - Vector pieces

@inline(__always)
func loadFloats8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }

@inline(__always)
func loadFloats8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }

@inline(__always)
func storeFloats8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self) }

@inline(__always)
func widenLow(_ v: SIMD8<Float>) -> SIMD4<Double> { SIMD4(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3])) }

@inline(__always)
func widenHigh(_ v: SIMD8<Float>) -> SIMD4<Double> { SIMD4(Double(v[4]), Double(v[5]), Double(v[6]), Double(v[7])) }
