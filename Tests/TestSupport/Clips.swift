import Engine
import Foundation

/// The sample clips, their ground truth, and the scoring rule of `Tests/Fixtures/clips/README.md`.
public enum Clips {
    /// 202 frames @ 25 fps: 5 hard cuts, a dissolve, a fade to black and back (bundled in assets/).
    public static let bbbCuts = Fixtures.repoRoot.appendingPathComponent("assets/bbb-cuts.mp4").path
    /// 132 frames @ 25 fps of one continuous shot.
    public static let bbbShot = Fixtures.path("clips/bbb-shot.mp4")

    public struct Truth: Sendable {
        public var frames: Int
        public var fps: Double
        public var hardCuts: [Int]
        /// Each gradual transition's kind ("cross-dissolve", "fade-to-black") and match window.
        public var gradual: [(kind: String, window: ClosedRange<Int>)]
        public var count: Int { hardCuts.count + gradual.count }
    }

    public static func truth(_ name: String) throws -> Truth {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("clips/\(name).truth.json")))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let gradual = (json["gradual"] as? [[String: Any]] ?? []).map { g -> (String, ClosedRange<Int>) in
            let w = g["match_window"] as! [Int]
            return (g["type"] as! String, w[0]...w[1])
        }
        return Truth(frames: json["n_frames"] as! Int, fps: (json["fps"] as! NSNumber).doubleValue,
                     hardCuts: json["hard_cuts"] as? [Int] ?? [], gradual: gradual)
    }

    public struct Score: Sendable, CustomStringConvertible {
        public var truePositives: Int
        public var falsePositives: [Int]
        public var missed: [String]
        public var f1: Double {
            let tp = Double(truePositives)
            let denominator = 2 * tp + Double(falsePositives.count + missed.count)
            return denominator == 0 ? 1 : 2 * tp / denominator
        }
        public var description: String {
            "F1 \(String(format: "%.3f", f1)): \(truePositives) found, false positives at \(falsePositives), missed \(missed)"
        }
    }

    /// One-to-one greedy matching: a hard cut is matched by a detection within +-1 frame, a gradual
    /// transition by one inside its match window; unmatched detections are false positives.
    public static func score(_ cuts: [SceneCut], against truth: Truth) -> Score {
        var unused = cuts.map(\.frame)
        var found = 0
        var missed: [String] = []
        for h in truth.hardCuts {
            if let i = unused.enumerated().filter({ abs($0.element - h) <= 1 }).min(by: { abs($0.element - h) < abs($1.element - h) })?.offset {
                unused.remove(at: i)
                found += 1
            } else {
                missed.append("cut \(h)")
            }
        }
        for g in truth.gradual {
            if let i = unused.firstIndex(where: { g.window.contains($0) }) {
                unused.remove(at: i)
                found += 1
            } else {
                missed.append("\(g.kind) \(g.window)")
            }
        }
        return Score(truePositives: found, falsePositives: unused, missed: missed)
    }

    /// Every frame of a clip, at `scaling`.
    public static func frames(_ path: String, scaling: FrameScaling = .original) throws -> [RGBImage] {
        let source = try VideoInput.open(path, scaling: scaling)
        var out: [RGBImage] = []
        while let f = try source.next() { out.append(f) }
        return out
    }

    /// Runs the detector over `frames` at `fps`.
    public static func detect(_ frames: [RGBImage], fps: Double = 25, options: SceneDetector.Options = .init()) -> SceneDetector {
        var detector = SceneDetector(fps: fps, options: options)
        for f in frames { _ = detector.feed(f) }
        _ = detector.finish()
        return detector
    }
}
