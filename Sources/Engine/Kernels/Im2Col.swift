// Column lowering for 3x3 convolutions over channel-major batches.
//
// Activations inside the synthesis network are laid out [C, N, H, W] ("CNHW") so that a whole batch
// shares one GEMM: a column index is (n, h, w) for every sample at once. Dimension letters:
// C channels, N batch, H x W the grid, K = 9 taps (ky * 3 + kx). `channelRange` restricts a call
// to some channels so that parallel parts touch disjoint rows.

/// cols [C * 9, nCount * H * W] <- x [C, N, H, W] for samples n0 ..< n0 + nCount, stride 1, padding 1.
public func im2col3x3(
    _ x: UnsafePointer<Float>, channels: Int, batch: Int, height: Int, width: Int,
    samples n0: Int, count nCount: Int, channelRange: Range<Int>? = nil, into cols: UnsafeMutablePointer<Float>
) {
    let hw = height * width
    let rowLength = nCount * hw
    for c in channelRange ?? 0..<channels {
        for ky in 0..<3 {
            for kx in 0..<3 {
                let row = cols + (c * 9 + ky * 3 + kx) * rowLength
                let dx = kx - 1
                for n in 0..<nCount {
                    let plane = x + (c * batch + n0 + n) * hw
                    let dst = row + n * hw
                    for h in 0..<height {
                        let sy = h + ky - 1
                        let d = dst + h * width
                        if sy < 0 || sy >= height {
                            d.update(repeating: 0, count: width)
                            continue
                        }
                        let s = plane + sy * width
                        // Interior copy, then the one zero column that the shift exposes.
                        if dx == 0 {
                            d.update(from: s, count: width)
                        } else if dx < 0 {
                            d[0] = 0
                            (d + 1).update(from: s, count: width - 1)
                        } else {
                            d.update(from: s + 1, count: width - 1)
                            d[width - 1] = 0
                        }
                    }
                }
            }
        }
    }
}

/// gx [C, N, H, W] += the adjoint of `im2col3x3` applied to gcols [C * 9, nCount * H * W].
public func col2im3x3Accumulate(
    _ cols: UnsafePointer<Float>, channels: Int, batch: Int, height: Int, width: Int,
    samples n0: Int, count nCount: Int, channelRange: Range<Int>? = nil, into gx: UnsafeMutablePointer<Float>
) {
    let hw = height * width
    let rowLength = nCount * hw
    for c in channelRange ?? 0..<channels {
        for ky in 0..<3 {
            for kx in 0..<3 {
                let row = cols + (c * 9 + ky * 3 + kx) * rowLength
                let dx = kx - 1
                for n in 0..<nCount {
                    let plane = gx + (c * batch + n0 + n) * hw
                    let src = row + n * hw
                    for h in 0..<height {
                        let sy = h + ky - 1
                        if sy < 0 || sy >= height { continue }
                        let s = src + h * width
                        let d = plane + sy * width
                        if dx == 0 {
                            for w in 0..<width { d[w] += s[w] }
                        } else if dx < 0 {
                            for w in 1..<width { d[w - 1] += s[w] }
                        } else {
                            for w in 0..<(width - 1) { d[w + 1] += s[w] }
                        }
                    }
                }
            }
        }
    }
}

/// out [O, N, 2H + 1, 2W + 1] += scatter of t [O * 9, nCount * H * W]: the col2im of a stride-2
/// transposed 3x3 convolution, t[(o, ky, kx), (n, i, j)] landing on out[o, n, 2i + ky, 2j + kx].
public func col2imTransposed3x3Accumulate(
    _ t: UnsafePointer<Float>, channels: Int, batch: Int, height: Int, width: Int,
    samples n0: Int, count nCount: Int, channelRange: Range<Int>? = nil, into out: UnsafeMutablePointer<Float>
) {
    let hw = height * width
    let outW = 2 * width + 1
    let outPlane = (2 * height + 1) * outW
    let rowLength = nCount * hw
    for o in channelRange ?? 0..<channels {
        for ky in 0..<3 {
            for kx in 0..<3 {
                let row = t + (o * 9 + ky * 3 + kx) * rowLength
                for n in 0..<nCount {
                    let plane = out + (o * batch + n0 + n) * outPlane
                    let src = row + n * hw
                    for i in 0..<height {
                        let d = plane + (2 * i + ky) * outW + kx
                        let s = src + i * width
                        for j in 0..<width { d[2 * j] += s[j] }
                    }
                }
            }
        }
    }
}

/// gt [O * 9, nCount * H * W] <- gather from gout [O, N, 2H + 1, 2W + 1]: the adjoint of
/// `col2imTransposed3x3Accumulate`.
public func im2colTransposed3x3(
    _ gout: UnsafePointer<Float>, channels: Int, batch: Int, height: Int, width: Int,
    samples n0: Int, count nCount: Int, channelRange: Range<Int>? = nil, into gt: UnsafeMutablePointer<Float>
) {
    let hw = height * width
    let outW = 2 * width + 1
    let outPlane = (2 * height + 1) * outW
    let rowLength = nCount * hw
    for o in channelRange ?? 0..<channels {
        for ky in 0..<3 {
            for kx in 0..<3 {
                let row = gt + (o * 9 + ky * 3 + kx) * rowLength
                for n in 0..<nCount {
                    let plane = gout + (o * batch + n0 + n) * outPlane
                    let dst = row + n * hw
                    for i in 0..<height {
                        let s = plane + (2 * i + ky) * outW + kx
                        let d = dst + i * width
                        for j in 0..<width { d[j] = s[2 * j] }
                    }
                }
            }
        }
    }
}

/// cols [C * 9, rows.count * W] <- x [C, N, H, W] * scale, for the image rows `rows` of the batch's
/// N * H rows (row r is line r % H of sample r / H), stride 1, padding 1: the columns of one slice of a
/// conv GEMM, whose output columns are then y [O, N * H * W] from r * W on. `scales` [N, C] multiplies
/// each (sample, channel) plane on the way (a modulated conv's styles); nil leaves x as it is.
/// For rows = n0 * H ..< (n0 + count) * H this is `im2col3x3` of samples n0 ..< n0 + count.
/// `ldCols` (default rows.count * W) is the distance between rows of cols, for a slice of wider columns.
public func im2col3x3Rows(
    _ x: UnsafePointer<Float>, channels: Int, batch: Int, height: Int, width: Int, rows: Range<Int>,
    scales: UnsafePointer<Float>?, into cols: UnsafeMutablePointer<Float>, ldCols: Int? = nil
) {
    let rowLength = ldCols ?? rows.count * width
    for c in 0..<channels {
        for ky in 0..<3 {
            for kx in 0..<3 {
                let out = cols + (c * 9 + ky * 3 + kx) * rowLength
                for r in rows {
                    let sample = r / height
                    let sy = r % height + ky - 1
                    let d = out + (r - rows.lowerBound) * width
                    if sy < 0 || sy >= height {
                        d.update(repeating: 0, count: width)
                        continue
                    }
                    let s = x + ((c * batch + sample) * height + sy) * width
                    let scale = scales?[sample * channels + c] ?? 1
                    // Interior, then the one zero column that the shift exposes.
                    if kx == 1 {
                        for q in 0..<width { d[q] = s[q] * scale }
                    } else if kx == 0 {
                        d[0] = 0
                        for q in 1..<max(1, width) { d[q] = s[q - 1] * scale }
                    } else {
                        for q in 0..<(width - 1) { d[q] = s[q + 1] * scale }
                        d[width - 1] = 0
                    }
                }
            }
        }
    }
}

/// wf [I, O * 9] <- w [O, I, 3, 3] flipped in both axes and transposed: wf[i, (o, ky, kx)] =
/// w[o, i, 2 - ky, 2 - kx]. A stride-1, padding-1 3x3 convolution of an output gradient with wf (as
/// `im2col3x3Rows` of the gradient times wf) is the input gradient of the convolution with w: the
/// adjoint of im2col + GEMM without col2im's scatter.
public func flippedTransposedConv3x3Weight(
    _ w: UnsafePointer<Float>, outChannels co: Int, inChannels ci: Int, into wf: UnsafeMutablePointer<Float>
) {
    for o in 0..<co {
        for i in 0..<ci {
            for k in 0..<9 { wf[i * co * 9 + o * 9 + (8 - k)] = w[(o * ci + i) * 9 + k] }
        }
    }
}
