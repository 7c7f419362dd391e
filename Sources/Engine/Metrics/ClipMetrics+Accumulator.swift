extension ClipMetrics {
    /// `measure` one frame at a time, in frame order, holding only the frames a figure needs at once
    /// (the previous target and reconstruction for the temporal residual, the two previous latents
    /// for the second difference), so a film's metrics cost its per-frame numbers, not its images.
    /// `measure` is this accumulator run over whole tensors: the same sums in the same order.
    public struct Accumulator: Sendable {
        let scenes: [Range<Int>]
        let wStd: Float
        private(set) var psnr: [Double] = []
        private(set) var ssim: [Double] = []
        /// A perceptual distance measured on every frame besides PSNR and SSIM (LPIPS), and its values.
        let perceptual: (any ImageLoss)?
        private(set) var lpips: [Double] = []
        /// Per frame t (from 1): |(y_t - y_{t-1}) - (x_t - x_{t-1})| mean, ||w_t - w_{t-1}||; per t
        /// (from 1, for t - 1 < t < t + 1): ||w_{t+1} - 2 w_t + w_{t-1}|| stored at t.
        private var tdr: [Double] = []
        private var step: [Double] = []
        private var curvature: [Double] = []
        private var previous: (target: Tensor, recon: Tensor)?
        private var previousWs: [Tensor] = []  // the last two latents, oldest first

        /// `scenes` as clean frame ranges in the frames' numbering (from 0).
        /// `perceptual`: a distance measured on every frame (LPIPS), reported as `lpips`.
        public init(scenes: [Range<Int>], wStd: Float, perceptual: (any ImageLoss)? = nil) {
            self.scenes = scenes
            self.wStd = wStd
            self.perceptual = perceptual
        }

        public var count: Int { psnr.count }

        /// The next frame: its target and reconstruction [1, C, R, R] and its latents [num_ws, w_dim].
        public mutating func add(target: Tensor, recon: Tensor, ws: Tensor) {
            psnr.append(ImageMetrics.psnr(recon, target)[0])
            ssim.append(ImageMetrics.ssim(recon, target)[0])
            if let perceptual { lpips.append(Double(perceptual.evaluate(recon, target)[0])) }
            if let previous {
                tdr.append(Self.temporalResidual(target: target, recon: recon, previousTarget: previous.target, previousRecon: previous.recon))
            } else {
                tdr.append(.nan)
            }
            if let last = previousWs.last {
                step.append(ws.withUnsafeBufferPointer { a in last.withUnsafeBufferPointer { b in Self.norm({ a[$0] - b[$0] }, count: a.count) } })
            } else {
                step.append(.nan)
            }
            if previousWs.count == 2 {
                // The second difference centred on the previous frame.
                let (b, a) = (previousWs[0], previousWs[1])
                curvature.append(ws.withUnsafeBufferPointer { c in
                    a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in Self.norm({ c[$0] - 2 * a[$0] + b[$0] }, count: a.count) } }
                })
            } else if !previousWs.isEmpty {
                curvature.append(.nan)
            }
            previous = (target, recon)
            previousWs = Array((previousWs + [ws]).suffix(2))
        }

        /// The figures, with each scene's held-out PSNR when measured.
        public func finish(heldOut: [Double?]? = nil) -> ClipMetrics {
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
                    f.tdr = pairs.map { tdr[$0] }.reduce(0, +) / Double(pairs.count)
                    f.s1 = pairs.map { step[$0] }.reduce(0, +) / Double(pairs.count) / Double(wStd)
                }
                if frames.count >= 3 {
                    let mids = frames.dropFirst().dropLast()
                    f.s2 = mids.map { curvature[$0] }.reduce(0, +) / Double(mids.count) / Double(wStd)
                }
                f.heldOutPSNR = heldOut?[k] ?? nil
                if !lpips.isEmpty { f.lpips = frames.map { lpips[$0] }.reduce(0, +) / Double(frames.count) }
                sceneFigures.append(f)
            }
            func mean(_ xs: [Double?]) -> Double? {
                let v = xs.compactMap { $0 }.filter { $0.isFinite }
                return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
            }
            let clip = Figures(
                psnr: mean(sceneFigures.map(\.psnr)) ?? 0, ssim: mean(sceneFigures.map(\.ssim)) ?? 0,
                tdr: mean(sceneFigures.map(\.tdr)), s1: mean(sceneFigures.map(\.s1)), s2: mean(sceneFigures.map(\.s2)),
                heldOutPSNR: mean(sceneFigures.map(\.heldOutPSNR)), lpips: mean(sceneFigures.map(\.lpips)))
            let loose = (0..<count).filter { !covered.contains($0) }
            let transitions = loose.isEmpty ? nil : Figures(
                psnr: loose.map { psnr[$0] }.reduce(0, +) / Double(loose.count), ssim: loose.map { ssim[$0] }.reduce(0, +) / Double(loose.count))
            return ClipMetrics(
                perFramePSNR: psnr, perFrameSSIM: ssim, scenes: sceneFigures, clip: clip, transitions: transitions,
                perFrameLPIPS: lpips.isEmpty ? nil : lpips)
        }

        static func temporalResidual(target: Tensor, recon: Tensor, previousTarget: Tensor, previousRecon: Tensor) -> Double {
            let per = target.count
            return target.withUnsafeBufferPointer { x in
                recon.withUnsafeBufferPointer { y in
                    previousTarget.withUnsafeBufferPointer { px in
                        previousRecon.withUnsafeBufferPointer { py in
                            var sum = 0.0
                            for i in 0..<per {
                                let a = Double(y[i]) - Double(py[i])
                                let b = Double(x[i]) - Double(px[i])
                                sum += abs(a - b)
                            }
                            return sum / Double(per)
                        }
                    }
                }
            }
        }

        static func norm(_ f: (Int) -> Float, count: Int) -> Double {
            var s = 0.0
            for i in 0..<count { s += Double(f(i)) * Double(f(i)) }
            return s.squareRoot()
        }
    }
}
