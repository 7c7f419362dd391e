import Engine
import Foundation
import Testing
import TestSupport

/// `linstory detect` as a user runs it.
@Suite("linstory detect")
final class DetectCommandTests {
    /// This test's scratch folder, removed when the test ends.
    let scratch: TemporaryFolder
    init() throws { scratch = try TemporaryFolder("linstory-cli") }

    static func run(_ arguments: [String]) throws -> CommandLineTests.Result { try CommandLineTests.run(["detect"] + arguments) }

    @Test func jsonOnTheSampleClipMatchesTheTruth() throws {
        let r = try Self.run([Clips.bbbCuts, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        // stderr is not a terminal: no bar, only plain log lines (here the last one: what was done).
        #expect(!r.stderr.contains("\u{1B}") && !r.stderr.contains("\r"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").allSatisfy { $0.hasPrefix("detect: ") } && r.stderr.contains("detect: finished, 202 frames in "), "\(r.stderr)")
        let dir = scratch.path
        try r.stdout.write(toFile: dir + "/cuts.json", atomically: true, encoding: .utf8)
        let list = try CutList.read(path: dir + "/cuts.json")
        #expect(list.frames == 202 && list.fps == 25)
        let score = Clips.score(list.cuts, against: try Clips.truth("bbb-cuts"))
        #expect(score.f1 == 1, "\(score)")
        #expect(list.cuts.map(\.kind) == [.cut, .cut, .dissolve, .cut, .cut, .fade, .cut])
    }

    @Test func tableAndCSV() throws {
        let table = try Self.run([Clips.bbbCuts])
        #expect(table.status == 0)
        #expect(table.stdout.contains("  3      77  00:00:03.080  dissolve   103.5      72-81"), "\(table.stdout)")
        #expect(table.stdout.hasSuffix("7 cuts in 202 frames at 25 fps: 8 scenes\n"))
        let csv = try Self.run([Clips.bbbShot, "--format", "csv"])
        #expect(csv.status == 0)
        #expect(csv.stdout.hasSuffix("1,1,00:00:00.000,0.000,132,00:00:05.280,5.280,132,00:00:05.280,5.280\n"), "\(csv.stdout)")
    }

    @Test func aFolderOfPNGs() throws {
        // Two stills from the sample clip with a 12-frame dissolve between them, at 12 fps.
        let frames = try Clips.frames(Clips.bbbCuts, scaling: .size(width: 160, height: 90))
        let a = Array(repeating: frames[10], count: 30), b = Array(repeating: frames[190], count: 42)
        let dir = scratch.path
        let writer = try PNGFolderWriter(folder: dir + "/frames")
        for f in a + SyntheticClip.dissolve(a, b, count: 12) + b[12...] { try writer.write(f) }
        let r = try Self.run([dir + "/frames", "--format", "json", "--fps", "12", "-o", dir + "/cuts.json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        let list = try CutList.read(path: dir + "/cuts.json")
        #expect(list.fps == 12 && list.frames == 72)
        #expect(list.cuts.map(\.kind) == [.dissolve] && list.cuts.first?.span == 30...41, "\(list.cuts)")
    }

    @Test func cutsFileIsReadBackAndConverted() throws {
        let r = try Self.run([Clips.bbbCuts, "--cuts", Fixtures.path("clips/bbb-cuts.pyscenedetect-0.7.2.csv"), "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains(#"{"frame": 154, "time": 6.16, "kind": "cut", "score": 0, "span": [154, 154]}"#), "\(r.stdout)")
        // A list that does not fit the video is refused.
        let dir = scratch.path
        try #"{"cuts": [{"frame": 500}]}"#.write(toFile: dir + "/bad.json", atomically: true, encoding: .utf8)
        let bad = try Self.run([Clips.bbbCuts, "--cuts", dir + "/bad.json"])
        #expect(bad.status != 0)
        #expect(bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains(dir + "/bad.json"), "\(bad.stderr)")
    }

    @Test func optionsChangeTheResult() throws {
        // A threshold above every cut's score finds nothing; a long minimum scene merges cuts.
        let none = try Self.run([Clips.bbbCuts, "--format", "json", "--threshold", "200"])
        #expect(none.status == 0 && none.stdout.contains(#""cuts": []"#), "\(none.stdout)")
        let merged = try Self.run([Clips.bbbCuts, "--format", "json", "--min-scene-len", "2s"])
        #expect(merged.status == 0)
        #expect(merged.stdout.components(separatedBy: #""frame""#).count - 1 < 7, "\(merged.stdout)")
        let wrong = try Self.run([Clips.bbbCuts, "--min-scene-len", "soon"])
        #expect(wrong.status != 0)
    }

    @Test(arguments: ["/no/such/clip.mp4", "Package.swift"])
    func badInputIsOneLine(path: String) throws {
        let full = path.hasPrefix("/") ? path : Fixtures.repoRoot.appendingPathComponent(path).path
        let r = try Self.run([full])
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains(full), "\(r.stderr)")
    }
}
