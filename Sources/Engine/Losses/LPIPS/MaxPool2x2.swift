// 2x2 max pooling, stride 2, no padding, as torch's `MaxPool2d(kernel_size=2, stride=2)`: an H x W
// plane gives floor(H/2) x floor(W/2), an odd last row or column is dropped.
//
// Planes are independent, so both directions take any layout of whole planes: [C, N, H, W] here.

/// y [P, H/2, W/2] <- the max of each 2x2 window of x [P, H, W], for the planes `planes`.
public func maxPool2x2Forward(
    _ x: UnsafePointer<Float>, height h: Int, width w: Int, planes: Range<Int>, into y: UnsafeMutablePointer<Float>
) {
    let oh = h / 2, ow = w / 2
    for p in planes {
        let src = x + p * h * w
        let dst = y + p * oh * ow
        for i in 0..<oh {
            let r0 = src + 2 * i * w, r1 = r0 + w
            let out = dst + i * ow
            for j in 0..<ow {
                out[j] = max(max(r0[2 * j], r0[2 * j + 1]), max(r1[2 * j], r1[2 * j + 1]))
            }
        }
    }
}

/// gx [P, H, W] <- the gradient of `maxPool2x2Forward` for gy [P, H/2, W/2], for the planes `planes`
/// (written, not added; a dropped odd row or column gets 0). Each window's gradient goes to one
/// element: the first maximum in the order (0, 0), (0, 1), (1, 0), (1, 1), as torch's CPU kernel
/// picks it (it scans the window row by row and keeps a value only when strictly greater), so ties
/// (plateaus of ReLU zeros) route the same way.
public func maxPool2x2Backward(
    _ x: UnsafePointer<Float>, height h: Int, width w: Int, planes: Range<Int>, gradient gy: UnsafePointer<Float>,
    into gx: UnsafeMutablePointer<Float>
) {
    let oh = h / 2, ow = w / 2
    for p in planes {
        let src = x + p * h * w
        let g = gy + p * oh * ow
        let dst = gx + p * h * w
        dst.update(repeating: 0, count: h * w)
        for i in 0..<oh {
            let r0 = src + 2 * i * w, r1 = r0 + w
            let d0 = dst + 2 * i * w, d1 = d0 + w
            let gi = g + i * ow
            for j in 0..<ow {
                let a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1]
                var best = a
                var at = d0 + 2 * j
                if b > best { best = b; at = d0 + 2 * j + 1 }
                if c > best { best = c; at = d1 + 2 * j }
                if d > best { at = d1 + 2 * j + 1 }
                at.pointee = gi[j]
            }
        }
    }
}
