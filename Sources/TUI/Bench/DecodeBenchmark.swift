import Engine
import Foundation

/// `linstory bench --decode VIDEO`: the rate of the one full decode a film gets, against a bare
/// `ffmpeg -f null` decode of the same file, in one run: detection alone, and detection filling the
/// frame store at the model's resolution (the pass `invert` and the UI make), and PySceneDetect's
/// `detect-adaptive` when a `scenedetect` is given. Each is the fastest of `reps` runs, in frames per
/// second; the runs go round the cases in turn, so that a load that comes and goes on a shared
/// machine falls on all of them.
enum DecodeBenchmark {
    struct Row {
        var name: String
        var seconds: Double
    }

    static func run(video: String, resolution: Int, reps: Int, scenedetect: String? = nil) throws -> String {
        let tools = try FFmpegTools.locate(for: video)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-decode-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        func external(_ executable: String, _ arguments: [String], _ what: String) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = arguments
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            if p.terminationStatus != 0 { throw LinstoryError(.tool, file: video, "\(what) failed (status \(p.terminationStatus))") }
        }
        var frames = 0
        var cases: [(name: String, body: () throws -> Void)] = [
            ("ffmpeg -f null (bare decode)", { try external(tools.ffmpeg, ["-nostdin", "-v", "error", "-i", video, "-map", "0:v:0", "-f", "null", "-"], "ffmpeg -f null") }),
            ("linstory detection", { frames = try SceneDetector.detect(video: video, tools: tools).cuts.frames }),
            ("linstory detection + frame store at \(resolution) px", {
                let path = scratch + "/store.rgb"
                _ = try SceneDetector.detect(video: video, tools: tools, store: .init(path: path, resolution: resolution, fit: .centerCrop))
                try? FileManager.default.removeItem(atPath: path)
                try? FileManager.default.removeItem(atPath: TargetStore.headerPath(path))
            }),
        ]
        if let scenedetect {
            cases.append(("PySceneDetect detect-adaptive list-scenes", {
                try external(scenedetect, ["-q", "-i", video, "-o", scratch, "detect-adaptive", "list-scenes", "-f", "sd.csv"], "scenedetect")
            }))
        }
        var fastest = [Double](repeating: .infinity, count: cases.count)
        for _ in 0..<reps {
            for (k, c) in cases.enumerated() {
                let start = ContinuousClock.now
                try c.body()
                fastest[k] = min(fastest[k], (ContinuousClock.now - start) / .seconds(1))
            }
        }
        let bare = fastest[0]
        let rows = zip(cases, fastest).map { Row(name: $0.name, seconds: $1) }
        var out = "\(video): \(frames) frames, fastest of \(reps)\n"
        for r in rows {
            let name = r.name.padding(toLength: max(r.name.count, 50), withPad: " ", startingAt: 0)
            out += "  " + name + String(format: " %7.1f frames/s  %5.1f%% of the bare decode\n", Double(frames) / r.seconds, 100 * bare / r.seconds)
        }
        return out
    }
}
