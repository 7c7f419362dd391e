import Engine
import Foundation

/// `linstory bench --decode VIDEO`: the rate of the one full decode a film gets, against a bare
/// `ffmpeg -f null` decode of the same file, in one run: detection alone, and detection filling the
/// frame store at the model's resolution (the pass `invert` and the UI make). Each is the fastest of
/// `reps` runs, in frames per second.
enum DecodeBenchmark {
    struct Row {
        var name: String
        var seconds: Double
    }

    static func run(video: String, resolution: Int, reps: Int) throws -> String {
        let tools = try FFmpegTools.locate(for: video)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-decode-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        func best(_ body: () throws -> Void) rethrows -> Double {
            var fastest = Double.infinity
            for _ in 0..<reps {
                let start = ContinuousClock.now
                try body()
                fastest = min(fastest, (ContinuousClock.now - start) / .seconds(1))
            }
            return fastest
        }
        var frames = 0
        let bare = try best {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: tools.ffmpeg)
            p.arguments = ["-nostdin", "-v", "error", "-i", video, "-map", "0:v:0", "-f", "null", "-"]
            try p.run()
            p.waitUntilExit()
            if p.terminationStatus != 0 { throw LinstoryError(.tool, file: video, "ffmpeg -f null failed (status \(p.terminationStatus))") }
        }
        let detect = try best { frames = try SceneDetector.detect(video: video, tools: tools).cuts.frames }
        let store = try best {
            let path = scratch + "/store.rgb"
            _ = try SceneDetector.detect(video: video, tools: tools, store: .init(path: path, resolution: resolution, fit: .centerCrop))
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: TargetStore.headerPath(path))
        }
        let rows = [Row(name: "ffmpeg -f null (bare decode)", seconds: bare), Row(name: "linstory detection", seconds: detect),
                    Row(name: "linstory detection + frame store at \(resolution) px", seconds: store)]
        var out = "\(video): \(frames) frames, fastest of \(reps)\n"
        for r in rows {
            let name = r.name.padding(toLength: max(r.name.count, 50), withPad: " ", startingAt: 0)
            out += "  " + name + String(format: " %7.1f frames/s  %5.1f%% of the bare decode\n", Double(frames) / r.seconds, 100 * bare / r.seconds)
        }
        return out
    }
}
