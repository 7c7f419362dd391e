import Engine
import Foundation
import Testing
import TestSupport

@Suite("cut lists and scenes")
struct CutListTests {
    static let sample = CutList(frames: 202, fps: 25, cuts: [
        SceneCut(frame: 24, time: 0.96, kind: .cut, score: 106.814, span: 24...24),
        SceneCut(frame: 77, time: 3.08, kind: .dissolve, score: 105.5, span: 72...81),
        SceneCut(frame: 156, time: 6.24, kind: .fade, score: 120.7, span: 146...165),
    ])

    @Test func jsonIsLosslessAndReadable() throws {
        let scratch = try VideoScratch()
        let path = scratch.file("cuts.json")
        try Self.sample.write(to: path)
        #expect(try CutList.read(path: path) == Self.sample)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(#"{"frame": 77, "time": 3.08, "kind": "dissolve", "score": 105.5, "span": [72, 81]}"#))
        #expect(text.hasPrefix("{\n  \"frames\": 202,\n  \"fps\": 25,\n  \"cuts\": [\n"))
    }

    @Test func csvIsWhatPySceneDetectWrites() throws {
        // The cuts PySceneDetect 0.7.2's detect-adaptive finds in bbb-cuts.mp4, and its own file.
        let list = CutList(frames: 202, fps: 25, cuts: [24, 44, 100, 126, 154, 182].map { SceneCut(frame: $0, fps: 25) })
        let theirs = try String(contentsOfFile: Fixtures.path("clips/bbb-cuts.pyscenedetect-0.7.2.csv"), encoding: .utf8)
        #expect(list.encoded(as: .csv) == theirs)
    }

    @Test func csvReadsBackAsHardCuts() throws {
        let list = try CutList.read(path: Fixtures.path("clips/bbb-cuts.pyscenedetect-0.7.2.csv"))
        #expect(list.frames == 202 && list.fps == 25)
        #expect(list.cuts == [24, 44, 100, 126, 154, 182].map { SceneCut(frame: $0, fps: 25) })
        // Without the timecode row (PySceneDetect's --skip-cuts), and with the video's rate given.
        let scratch = try VideoScratch()
        let path = scratch.file("skip.csv")
        let theirs = try String(contentsOfFile: Fixtures.path("clips/bbb-cuts.pyscenedetect-0.7.2.csv"), encoding: .utf8)
        try theirs.split(separator: "\n").dropFirst().joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try CutList.read(path: path, fps: 25).cuts.map(\.frame) == [24, 44, 100, 126, 154, 182])
    }

    @Test func aListForAnotherVideoIsRefused() throws {
        let scratch = try VideoScratch()
        let path = scratch.file("cuts.json")
        try Self.sample.write(to: path)
        let frames = #expect(throws: LinstoryError.self) { try CutList.read(path: path, fps: 25, frames: 2020) }
        let rate = #expect(throws: LinstoryError.self) { try CutList.read(path: path, fps: 30) }
        let csv = #expect(throws: LinstoryError.self) { try CutList.read(path: Fixtures.path("clips/bbb-cuts.pyscenedetect-0.7.2.csv"), fps: 25, frames: 132) }
        #expect([frames?.kind, rate?.kind, csv?.kind] == [.mismatch, .mismatch, .mismatch])
        #expect(try CutList.read(path: path, fps: 25, frames: 202) == Self.sample)
    }

    @Test func noCutsIsOneScene() {
        let csv = CutList(frames: 132, fps: 25, cuts: []).encoded(as: .csv)
        #expect(csv.hasPrefix("\nScene Number,"))
        #expect(csv.hasSuffix("1,1,00:00:00.000,0.000,132,00:00:05.280,5.280,132,00:00:05.280,5.280\n"))
    }

    @Test func handWrittenJSONNeedsOnlyFrames() throws {
        let scratch = try VideoScratch()
        let path = scratch.file("mine.json")
        try #"{"cuts": [{"frame": 100}, {"frame": 24}, {"frame": 24}]}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let list = try CutList.read(path: path, fps: 25, frames: 202)
        #expect(list.cuts == [SceneCut(frame: 24, fps: 25), SceneCut(frame: 100, fps: 25)])
    }

    @Test(arguments: [
        (#"{"cuts": [{"frame": 300}]}"#, "outside the video", LinstoryError.Kind.mismatch),
        (#"{"cuts": [{"frame": 0}]}"#, "outside the video", .mismatch),
        (#"{"cuts": [{"time": 1}]}"#, "missing \"frame\"", .wrongFormat),
        (#"{"cuts": [{"frame": 50, "kind": "wipe"}]}"#, "not cut, dissolve or fade", .unsupported),
        (#"{"cuts": [{"frame": 50, "span": [60, 70]}]}"#, "span", .corrupt),
        (#"{"cuts": [{"frame": 200, "span": [190, 210]}]}"#, "leaves the video", .mismatch),
        ("{\"cuts\": [", "invalid JSON", .wrongFormat),
        ("frame,time\n1,2\n", "Scene Number", .wrongFormat),
    ])
    func badListsAreOneLineErrors(_ bad: (text: String, problem: String, kind: LinstoryError.Kind)) throws {
        let (text, problem) = (bad.text, bad.problem)
        let scratch = try VideoScratch()
        let path = scratch.file("bad.json")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try CutList.read(path: path, fps: 25, frames: 202)
            Issue.record("\(text) was accepted")
        } catch let e as LinstoryError {
            #expect(e.message.hasPrefix(path + ": ") && e.message.contains(problem) && !e.message.contains("\n"), "\(e.message)")
            #expect(e.kind == bad.kind, "\(e.message)")
        }
    }

    @Test func scenesMarkGradualFrames() {
        let scenes = Self.sample.scenes
        #expect(scenes.scenes.map(\.frames) == [0..<24, 24..<77, 77..<156, 156..<202])
        #expect(scenes.scenes.map(\.clean) == [0..<24, 24..<72, 82..<146, 166..<202])
        #expect(scenes.scenes[1].exit?.kind == .dissolve && scenes.scenes[2].entry?.kind == .dissolve)
        #expect(scenes.scene(containing: 76)?.index == 1 && scenes.scene(containing: 77)?.index == 2)
        #expect(scenes.isInTransition(72) && scenes.isInTransition(81) && !scenes.isInTransition(82) && !scenes.isInTransition(24))
        #expect(SceneList(cuts: [], frames: 10).scenes.map(\.frames) == [0..<10])
    }

    /// Found by Fuzz/CutListFuzz: `Timecode.string` trapped converting a time past Int.max
    /// milliseconds, so a list that reads (any frame count, any positive rate, any "time") trapped when
    /// written as CSV or printed; times past 1e12 s are clamped now.
    @Test func absurdFrameCountsAndRatesStillWriteCSV() throws {
        let scratch = try VideoScratch()
        let path = scratch.file("huge.json")
        for text in [#"{"frames": 300000000000000000, "fps": 25, "cuts": []}"#, #"{"frames": 10, "fps": 1e-300, "cuts": [{"frame": 5}]}"#] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let list = try CutList.read(path: path)
            #expect(list.encoded(as: .csv).contains("277777777:46:40.000"))
            #expect(try CutList.read(path: path).encoded(as: .json).contains("\"frames\""))
        }
        // The fuzzer's input (a field of 41 ones) minimised: 17 ones, 1.1e16 s, past Int.max ms. A cut's
        // "time" in JSON is just as free, and `linstory detect` prints it as a timecode.
        let field = String(decoding: [UInt8](repeating: 0x31, count: 17), as: UTF8.self)
        #expect(Timecode.seconds(field).map { Timecode.string(seconds: $0) } == "277777777:46:40.000")
        #expect(Timecode.string(seconds: .nan) == "00:00:00.000" && Timecode.string(seconds: -.infinity) == "00:00:00.000")
        #expect(Timecode.string(seconds: .infinity) == "277777777:46:40.000")
    }

    @Test func timecodesAndDurations() {
        #expect(Timecode.string(frame: 24, fps: 25) == "00:00:00.960")
        #expect(Timecode.string(frame: 108_000, fps: 30000.0 / 1001) == "01:00:03.600")
        #expect(Timecode.seconds("01:02:03.500") == 3723.5 && Timecode.seconds("4.25") == 4.25 && Timecode.seconds("1:xx") == nil)
        #expect(FrameDuration(parsing: "15") == .frames(15) && FrameDuration(parsing: "0.6s") == .seconds(0.6))
        #expect(FrameDuration(parsing: "abc") == nil && FrameDuration(parsing: "-3") == nil)
        #expect(FrameDuration.seconds(0.6).frames(at: 25) == 15)
    }
}
