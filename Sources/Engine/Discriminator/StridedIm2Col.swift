// Column lowering for the discriminator's down-sampling 3x3 convolutions: stride 2, no padding, on
// the FIR-filtered grid (conv2d_resample with down = 2 filters with padding 2, then convolves with
// stride 2: an input of H + 1 rows gives H / 2). Activations are [C, N, H, W] as everywhere in the
// engine's workspaces; a column index is (n, oy, ox) over the whole batch.
//
// Dimension letters: C channels, N batch, Hin x Win the filtered grid, Ho x Wo the output's,
// K = 9 taps (ky * 3 + kx).

/// cols [C * 9, rows.count * Wo] <- x [C, N, Hin, Win] for the output rows `rows` of the batch's
/// N * Ho rows (row r is line r % Ho of sample r / Ho): cols[(c, ky, kx), (r, ox)] =
/// x[c, n, 2 oy + ky, 2 ox + kx]. `ldCols` (default rows.count * Wo) spaces the rows of cols.
public func im2col3x3Stride2Rows(
    _ x: UnsafePointer<Float>, channels: Int, batch: Int, inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int,
    rows: Range<Int>, into cols: UnsafeMutablePointer<Float>, ldCols: Int? = nil
) {
    let rowLength = ldCols ?? rows.count * outWidth
    for c in 0..<channels {
        for ky in 0..<3 {
            for kx in 0..<3 {
                let out = cols + (c * 9 + ky * 3 + kx) * rowLength
                for r in rows {
                    let sample = r / outHeight
                    let oy = r % outHeight
                    let s = x + ((c * batch + sample) * inHeight + 2 * oy + ky) * inWidth + kx
                    let d = out + (r - rows.lowerBound) * outWidth
                    for ox in 0..<outWidth { d[ox] = s[2 * ox] }
                }
            }
        }
    }
}

/// gx [C, N, Hin, Win] += the adjoint of `im2col3x3Stride2Rows` applied to gcols
/// [C * 9, rows.count * Wo]. Rows of neighbouring output lines overlap (line oy's ky = 2 is line
/// oy + 1's ky = 0), so parallel callers must not run adjacent row ranges at once.
public func col2im3x3Stride2RowsAccumulate(
    _ cols: UnsafePointer<Float>, channels: Int, batch: Int, inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int,
    rows: Range<Int>, into gx: UnsafeMutablePointer<Float>, ldCols: Int? = nil
) {
    let rowLength = ldCols ?? rows.count * outWidth
    for c in 0..<channels {
        for ky in 0..<3 {
            for kx in 0..<3 {
                let src = cols + (c * 9 + ky * 3 + kx) * rowLength
                for r in rows {
                    let sample = r / outHeight
                    let oy = r % outHeight
                    let d = gx + ((c * batch + sample) * inHeight + 2 * oy + ky) * inWidth + kx
                    let s = src + (r - rows.lowerBound) * outWidth
                    for ox in 0..<outWidth { d[2 * ox] += s[ox] }
                }
            }
        }
    }
}
