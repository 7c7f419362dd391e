import ArgumentParser
import Engine
import Foundation

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Find the hard cuts, dissolves and fades in a video.",
        discussion: """
            VIDEO is any file ffmpeg can read, or a folder of PNG frames (read in name order). \
            Each cut is the first frame of the new shot (0-based; for a dissolve or fade, the middle \
            of the transition), its time, kind (cut, dissolve, fade), score (how far the picture \
            changes, in --threshold units) and span (the transition's first and last frame).

            --format json is lossless and is what --cuts reads back; --format csv is the file \
            PySceneDetect's list-scenes writes (frames 1-based). With --cuts, nothing is detected: \
            the list is read, checked against VIDEO and printed in --format, which converts between \
            the two.
            """)

    @Argument(help: "A video file or a folder of PNG frames.") var video: String
    @Option(help: "Output: table, json or csv.") var format: OutputFormat = .table
    @Option(help: "Least change a cut or transition makes (sum of mean |ΔY|, |ΔCb|, |ΔCr|, 0-255 scale).")
    var threshold: Double = SceneDetector.Options().threshold
    @Option(name: .customLong("min-scene-len"), help: "Shortest scene, in frames (15) or seconds (0.6s). (default: 0.6s)")
    var minSceneLength: FrameDurationArgument?
    @Option(help: "Frame rate of a PNG folder.") var fps: Double = 25
    @Option(help: "Read this cut list (JSON or PySceneDetect CSV) instead of detecting.") var cuts: String?
    @Option(name: [.short, .customLong("output")], help: "Write to this file instead of stdout.") var output: String?
    @Flag(help: "No progress bar, even on a terminal.") var quiet = false

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    struct FrameDurationArgument: ExpressibleByArgument {
        let value: FrameDuration
        init?(argument: String) {
            guard let v = FrameDuration(parsing: argument) else { return nil }
            value = v
        }
    }

    func validate() throws {
        if !(threshold > 0) { throw ValidationError("--threshold must be positive") }
        if !(fps > 0) { throw ValidationError("--fps must be positive") }
    }

    func run() throws {
        let options = SceneDetector.Options(threshold: threshold, minSceneLength: minSceneLength?.value)
        let list: CutList
        if let cuts {
            // A list the user gives is checked against the video's rate and length.
            let source = try VideoInput.open(video, scaling: .width(options.analysisWidth), folderFPS: fps, forAnalysis: true)
            defer { source.close() }
            list = try CutList.read(path: cuts, fps: source.info.fps, frames: try Self.countFrames(source))
        } else {
            list = try Self.detect(video, options: options, folderFPS: fps, progress: !quiet)
        }
        let text = format == .table ? Self.table(list) : list.encoded(as: format == .json ? .json : .csv)
        if let output {
            try AtomicFile.write(Array(text.utf8), to: output)
        } else {
            print(text, terminator: "")
        }
    }

    /// The engine's detection with a progress bar on a terminal.
    static func detect(_ video: String, options: SceneDetector.Options, folderFPS: Double, progress: Bool) throws -> CutList {
        let bar = LazyProgress(label: "detect", unit: "frames", enabled: progress)
        defer { bar.finish() }
        return try SceneDetector.detect(video: video, options: options, folderFPS: folderFPS) { detector, total in
            bar.update(detector.framesSeen, total)
        }.cuts
    }

    /// The exact frame count: the container's when it records one, otherwise by decoding.
    static func countFrames(_ source: any FrameSource) throws -> Int {
        if source.info.frameCountIsExact, let n = source.info.frameCount { return n }
        while try source.next() != nil {}
        return source.framesRead
    }

    static func table(_ list: CutList) -> String {
        func cell(_ text: String, _ width: Int, left: Bool = false) -> String {
            let padding = String(repeating: " ", count: max(width - text.count, 0))
            return left ? text + padding : padding + text
        }
        func row(_ cells: [String]) -> String {
            [cell(cells[0], 3), cell(cells[1], 6), cell(cells[2], 12), cell(cells[3], 8, left: true), cell(cells[4], 6), cell(cells[5], 9)]
                .joined(separator: "  ")
        }
        var lines = [row(["#", "frame", "time", "kind", "score", "span"])]
        for (i, c) in list.cuts.enumerated() {
            lines.append(row(["\(i + 1)", "\(c.frame)", Timecode.string(seconds: c.time), c.kind.rawValue,
                              String(format: "%.1f", c.score), "\(c.span.lowerBound)-\(c.span.upperBound)"]))
        }
        let n = list.cuts.count
        lines.append("\(n) cut\(n == 1 ? "" : "s") in \(list.frames) frames at \(String(format: "%g", list.fps)) fps: \(n + 1) scene\(n == 0 ? "" : "s")")
        return lines.joined(separator: "\n") + "\n"
    }
}
