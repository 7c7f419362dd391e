import Foundation
import Engine

/// A made-up clip with every field filled, for the `ui-demo` command and the tests: 240 frames,
/// three cuts of each kind, a difference curve with spikes at the cuts, losses for the first 150
/// frames and synthetic 64x64 previews. Deterministic.
extension AppState {
    public static func sample(size: Size) -> AppState {
        var s = AppState(size: size)
        s.videoName = "sample.mp4"
        s.modelName = "bbb64"
        s.method = .scene
        s.space = .w
        s.frameCount = 240
        s.cursor = 42
        s.fps = 24
        s.cuts = [SceneCut(frame: 60, fps: 24, score: 40),
                  SceneCut(frame: 130, time: 130 / 24, kind: .dissolve, score: 25, span: 126...134),
                  SceneCut(frame: 190, time: 190 / 24, kind: .fade, score: 20, span: 186...193)]
        s.differenceCurve = FrameValues((0..<240).map { (f: Int) -> Double in
            let base: Double = 0.08 + 0.04 * sin(Double(f) * 0.37) * sin(Double(f) * 0.11)
            switch f {
            case 60: return 0.95
            case 126..<134: return 0.35 + 0.05 * Double(4 - abs(f - 130)) as Double
            case 186..<194: return 0.3
            default: return base
            }
        })
        s.frameLoss = FrameValues((0..<240).map { (f: Int) -> Double in
            guard f < 150 else { return .nan }
            let wave: Double = 0.05 * sin(Double(f) * 0.2)
            let bump: Double = f % 60 == 0 ? 0.1 : 0
            return 0.12 + wave + bump
        })
        s.lossHistory = (0..<200).map { i in 0.08 + 0.5 * exp(-Double(i) / 30) }
        s.lossHistoryLabel = "scene 1"
        s.engine = EngineStatus(text: "inverting scene 3 of 4", iterationsPerSecond: 5.2, eta: 83)
        let target = sampleImage(frame: s.cursor)
        let reconstruction = sampleImage(frame: s.cursor, blur: true)
        s.previews = PreviewImages(frame: s.cursor, target: target, reconstruction: reconstruction,
                                   difference: absoluteDifference(target, reconstruction))
        return s
    }

    /// A 64x64 test picture that changes with the frame: a sky gradient, a sun, green ground.
    public static func sampleImage(frame: Int, blur: Bool = false) -> RGBImage {
        let n = 64
        var pixels = [UInt8](repeating: 0, count: n * n * 3)
        let sunX = 16 + Double(frame % 32), sunY = 20.0
        for y in 0..<n {
            for x in 0..<n {
                var r = 80 + y * 2, g = 120 + y, b = 230 - y
                let d = hypot(Double(x) - sunX, Double(y) - sunY)
                if d < (blur ? 9.5 : 9) { r = 250; g = 220; b = blur ? 90 : 60 }
                if y > 44 { r = 40; g = 150 - (y - 44) * 2; b = 50 }
                let i = (y * n + x) * 3
                pixels[i] = UInt8(min(255, r)); pixels[i + 1] = UInt8(min(255, g)); pixels[i + 2] = UInt8(min(255, b))
            }
        }
        return RGBImage(width: n, height: n, pixels: pixels)
    }

    public static func absoluteDifference(_ a: RGBImage, _ b: RGBImage) -> RGBImage {
        RGBImage(width: a.width, height: a.height, pixels: zip(a.pixels, b.pixels).map { x, y in x > y ? x - y : y - x })
    }

    /// A pixel-wise blend, standing in for G(lerp(w0, w1, t)) where no engine is running.
    public static func blend(_ a: RGBImage, _ b: RGBImage, t: Double) -> RGBImage {
        RGBImage(width: a.width, height: a.height, pixels: zip(a.pixels, b.pixels).map { x, y in
            UInt8(min(255, max(0, (Double(x) + (Double(y) - Double(x)) * t).rounded())))
        })
    }
}
