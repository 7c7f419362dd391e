import Foundation

/// Reconstruction and temporal-consistency figures for one method on one clip.
public struct ClipMetrics: Sendable, Codable {
    public struct Figures: Sendable, Codable {
        public var psnr: Double
        public var ssim: Double
        /// Temporal-difference residual: mean |(y_t - y_{t-1}) - (x_t - x_{t-1})| (images in [-1, 1]).
        public var tdr: Double?
        /// Latent step: mean ||w_t - w_{t-1}|| / w_std.
        public var s1: Double?
        /// Latent second difference: mean ||w_{t+1} - 2 w_t + w_{t-1}|| / w_std.
        public var s2: Double?
        /// PSNR of held-out frames rendered from the fitted path.
        public var heldOutPSNR: Double?
    }

    public var perFramePSNR: [Double]
    public var perFrameSSIM: [Double]
    /// Per scene (clean frames only), in scene order.
    public var scenes: [Figures]
    /// The clip: the mean over scenes, each weighted equally.
    public var clip: Figures
    /// Transition (dissolve/fade) frames, reported apart.
    public var transitions: Figures?

    /// `targets` and `recon` [F, C, R, R]; `ws` per frame [num_ws, w_dim]; `scenes` as clean frame
    /// ranges in the same numbering; `heldOut` optional per-scene held-out PSNR.
    public static func measure(
        targets: Tensor, recon: Tensor, ws: [Tensor], scenes: [Range<Int>], wStd: Float, heldOut: [Double?]? = nil
    ) -> ClipMetrics {
        let psnr = ImageMetrics.psnr(recon, targets)
        let ssim = ImageMetrics.ssim(recon, targets)
        let per = targets.count / max(1, targets.shape[0])
        func tdr(_ t: Int) -> Double {
            targets.withUnsafeBufferPointer { x in
                recon.withUnsafeBufferPointer { y in
                    var sum = 0.0
                    for i in 0..<per {
                        let a = Double(y[t * per + i]) - Double(y[(t - 1) * per + i])
                        let b = Double(x[t * per + i]) - Double(x[(t - 1) * per + i])
                        sum += abs(a - b)
                    }
                    return sum / Double(per)
                }
            }
        }
        func norm(_ f: (Int) -> Float, count: Int) -> Double {
            var s = 0.0
            for i in 0..<count { s += Double(f(i)) * Double(f(i)) }
            return s.squareRoot()
        }
        var sceneFigures: [Figures] = []
        var covered = Set<Int>()
        for (k, scene) in scenes.enumerated() where !scene.isEmpty {
            covered.formUnion(scene)
            let frames = Array(scene)
            var f = Figures(
                psnr: frames.map { psnr[$0] }.reduce(0, +) / Double(frames.count),
                ssim: frames.map { ssim[$0] }.reduce(0, +) / Double(frames.count))
            if frames.count >= 2 {
                let pairs = frames.dropFirst()
                f.tdr = pairs.map(tdr).reduce(0, +) / Double(pairs.count)
                f.s1 = pairs.map { t in
                    ws[t].withUnsafeBufferPointer { a in ws[t - 1].withUnsafeBufferPointer { b in norm({ a[$0] - b[$0] }, count: a.count) } }
                }.reduce(0, +) / Double(pairs.count) / Double(wStd)
            }
            if frames.count >= 3 {
                let mids = frames.dropFirst().dropLast()
                f.s2 = mids.map { t in
                    ws[t].withUnsafeBufferPointer { a in
                        ws[t - 1].withUnsafeBufferPointer { b in
                            ws[t + 1].withUnsafeBufferPointer { c in norm({ c[$0] - 2 * a[$0] + b[$0] }, count: a.count) }
                        }
                    }
                }.reduce(0, +) / Double(mids.count) / Double(wStd)
            }
            f.heldOutPSNR = heldOut?[k] ?? nil
            sceneFigures.append(f)
        }
        func mean(_ xs: [Double?]) -> Double? {
            let v = xs.compactMap { $0 }.filter { $0.isFinite }
            return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
        }
        let clip = Figures(
            psnr: mean(sceneFigures.map(\.psnr)) ?? 0, ssim: mean(sceneFigures.map(\.ssim)) ?? 0,
            tdr: mean(sceneFigures.map(\.tdr)), s1: mean(sceneFigures.map(\.s1)), s2: mean(sceneFigures.map(\.s2)),
            heldOutPSNR: mean(sceneFigures.map(\.heldOutPSNR)))
        let loose = (0..<targets.shape[0]).filter { !covered.contains($0) }
        let transitions = loose.isEmpty ? nil : Figures(
            psnr: loose.map { psnr[$0] }.reduce(0, +) / Double(loose.count), ssim: loose.map { ssim[$0] }.reduce(0, +) / Double(loose.count))
        return ClipMetrics(perFramePSNR: psnr, perFrameSSIM: ssim, scenes: sceneFigures, clip: clip, transitions: transitions)
    }
}
