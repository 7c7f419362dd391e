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
        /// Mean LPIPS distance (lower is closer), when LPIPS weights were given.
        public var lpips: Double?
    }

    public var perFramePSNR: [Double]
    public var perFrameSSIM: [Double]
    /// Per scene (clean frames only), in scene order.
    public var scenes: [Figures]
    /// The clip: the mean over scenes, each weighted equally.
    public var clip: Figures
    /// Transition (dissolve/fade) frames, reported apart.
    public var transitions: Figures?
    /// Per frame LPIPS distance, when measured.
    public var perFrameLPIPS: [Double]? = nil

    /// `targets` and `recon` [F, C, R, R]; `ws` per frame [num_ws, w_dim]; `scenes` as clean frame
    /// ranges in the same numbering; `heldOut` optional per-scene held-out PSNR.
    public static func measure(
        targets: Tensor, recon: Tensor, ws: [Tensor], scenes: [Range<Int>], wStd: Float, heldOut: [Double?]? = nil
    ) -> ClipMetrics {
        var accumulator = Accumulator(scenes: scenes, wStd: wStd)
        for t in 0..<targets.shape[0] {
            accumulator.add(target: targets.slice(t..<(t + 1)), recon: recon.slice(t..<(t + 1)), ws: ws[t])
        }
        return accumulator.finish(heldOut: heldOut)
    }
}
