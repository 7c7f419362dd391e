import Engine
import Foundation
import Testing
import TestSupport

/// Every way reading a video can fail ends in one LinstoryError that names the file: no crash, no
/// hang, no ffmpeg left running.
@Suite("video errors")
struct VideoErrorTests {
    /// Reads to the end and returns the error, if any.
    func failure(_ open: () throws -> any FrameSource) -> (message: String, frames: Int, kind: LinstoryError.Kind?)? {
        var frames = 0
        do {
            let source = try open()
            while try source.next() != nil { frames += 1 }
            return nil
        } catch let e as LinstoryError {
            return (e.message, frames, e.kind)
        } catch {
            return ("not a LinstoryError: \(error)", frames, nil)
        }
    }

    func expectOneLine(_ message: String, naming file: String, saying words: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!message.contains("\n"), "\(message)", sourceLocation: sourceLocation)
        #expect(message.hasPrefix(file + ": "), "\(message)", sourceLocation: sourceLocation)
        for w in words { #expect(message.contains(w), "\(message) lacks \(w)", sourceLocation: sourceLocation) }
    }

    @Test func noFFmpegOnThePath() throws {
        let scratch = try VideoScratch()
        #expect(throws: LinstoryError.self) { try FFmpegTools.locate(for: Clips.bbbCuts, searchPath: scratch.path) }
        do {
            _ = try FFmpegTools.locate(for: Clips.bbbCuts, searchPath: scratch.path)
        } catch let e as LinstoryError {
            expectOneLine(e.message, naming: Clips.bbbCuts, saying: ["ffmpeg", "PATH", "apt-get install ffmpeg"])
            #expect(e.kind == .tool)
        }
    }

    @Test func missingFile() {
        let r = failure { try VideoInput.open("/no/such/clip.mp4") }
        expectOneLine(r?.message ?? "", naming: "/no/such/clip.mp4", saying: ["no such file"])
        #expect(r?.kind == .notFound)
    }

    @Test func notAVideo() throws {
        let scratch = try VideoScratch()
        let path = scratch.file("notes.mp4")
        try Data("these are not frames\n".utf8).write(to: URL(fileURLWithPath: path))
        let r = failure { try VideoInput.open(path) }
        expectOneLine(r?.message ?? "", naming: path, saying: ["not a video", "Invalid data"])
        #expect(r?.kind == .wrongFormat)
    }

    @Test func audioOnlyFileHasNoVideoStream() throws {
        let scratch = try VideoScratch()
        let path = scratch.file("tone.wav")
        try ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=0.2", path])
        let r = failure { try VideoInput.open(path) }
        expectOneLine(r?.message ?? "", naming: path, saying: ["no video stream"])
        #expect(r?.kind == .wrongFormat)
    }

    @Test func truncatedVideoReportsFramesRead() throws {
        let scratch = try VideoScratch()
        // Moved the index to the front, so the cut-off file still opens and decodes part way.
        let whole = scratch.file("whole.mp4"), cut = scratch.file("cut.mp4")
        try ffmpeg(["-i", Clips.bbbCuts, "-c", "copy", "-movflags", "+faststart", whole])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: whole))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
        let r = try #require(failure { try VideoInput.open(cut) })
        expectOneLine(r.message, naming: cut, saying: ["truncated or corrupt", "read \(r.frames) frames of 202"])
        #expect(r.kind == .corrupt)
        #expect(r.frames > 10 && r.frames < 202)
    }

    @Test func truncatedIndexAtTheEnd() throws {
        // The sample clip keeps its index (moov) at the end: cut off, nothing can be decoded.
        let scratch = try VideoScratch()
        let cut = scratch.file("cut.mp4")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Clips.bbbCuts))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
        let r = failure { try VideoInput.open(cut) }
        expectOneLine(r?.message ?? "", naming: cut, saying: ["not a video", "moov atom not found"])
        #expect(r?.kind == .wrongFormat)  // ffprobe cannot tell a cut-off index from a foreign file
    }

    @Test func zeroFrameVideo() throws {
        let scratch = try VideoScratch()
        let path = scratch.file("empty.y4m")
        try Data("YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg\n".utf8).write(to: URL(fileURLWithPath: path))
        let r = failure { try VideoInput.open(path) }
        expectOneLine(r?.message ?? "", naming: path, saying: ["contains no frames"])
        #expect(r?.kind == .notFound)
    }

    @Test func stalledFFmpegIsKilled() throws {
        let scratch = try VideoScratch()
        // An "ffmpeg" that never answers, after an "ffprobe" that answers at once (so that the short
        // timeout is only ever the stalled decoder's, however busy the machine).
        let fakeFFmpeg = scratch.file("ffmpeg"), fakeFFprobe = scratch.file("ffprobe")
        try "#!/bin/sh\nexec sleep 30\n".write(toFile: fakeFFmpeg, atomically: true, encoding: .utf8)
        let answer = #"{"streams": [{"codec_type": "video", "width": 64, "height": 36, "avg_frame_rate": "25/1", "nb_frames": "10"}]}"#
        try "#!/bin/sh\necho '\(answer)'\n".write(toFile: fakeFFprobe, atomically: true, encoding: .utf8)
        chmod(fakeFFmpeg, 0o755)
        chmod(fakeFFprobe, 0o755)
        let tools = FFmpegTools(ffmpeg: fakeFFmpeg, ffprobe: fakeFFprobe)
        let start = Date()
        let r = failure { try VideoFileReader(path: Clips.bbbCuts, tools: tools, stallTimeout: 1) }
        #expect(Date().timeIntervalSince(start) < 10)
        expectOneLine(r?.message ?? "", naming: Clips.bbbCuts, saying: ["stalled", "after 0 frames"])
        #expect(r?.kind == .tool)
        #expect(zombieChildren() == [])
    }

    @Test func ffmpegThatDiesMidStream() throws {
        let scratch = try VideoScratch()
        // Writes one and a half frames of 64x36, then fails.
        let fake = scratch.file("ffmpeg")
        try "#!/bin/sh\nhead -c 10368 /dev/zero\necho 'Error while decoding stream #0:0: Invalid data found when processing input' >&2\nexit 1\n"
            .write(toFile: fake, atomically: true, encoding: .utf8)
        chmod(fake, 0o755)
        let real = try FFmpegTools.locate(for: Clips.bbbCuts)
        let r = failure { try VideoFileReader(path: Clips.bbbCuts, scaling: .width(64), tools: FFmpegTools(ffmpeg: fake, ffprobe: real.ffprobe)) }
        expectOneLine(r?.message ?? "", naming: Clips.bbbCuts, saying: ["truncated or corrupt", "read 1 frame of 202", "Invalid data"])
        #expect(r?.kind == .corrupt)
    }

    @Test func nonPNGFileInAFrameFolder() throws {
        let scratch = try VideoScratch()
        try PNGFile.write(patternFrame(0), to: scratch.file("000.png"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: scratch.file("001.jpg")))
        let r = failure { try VideoInput.open(scratch.path) }
        expectOneLine(r?.message ?? "", naming: scratch.file("001.jpg"), saying: ["not a PNG"])
        #expect(r?.kind == .wrongFormat)
    }

    @Test func corruptPNGInAFrameFolder() throws {
        let scratch = try VideoScratch()
        try PNGFile.write(patternFrame(0), to: scratch.file("000.png"))
        let png = try PNGFile.encode(patternFrame(1))
        try Data(png.prefix(png.count - 30)).write(to: URL(fileURLWithPath: scratch.file("001.png")))
        let r = try #require(failure { try VideoInput.open(scratch.path) })
        expectOneLine(r.message, naming: scratch.file("001.png"), saying: [])
        #expect(r.kind == .corrupt)
        #expect(r.frames == 1)
    }

    @Test func frameOfAnotherSizeInAFolder() throws {
        let scratch = try VideoScratch()
        try PNGFile.write(patternFrame(0), to: scratch.file("000.png"))
        try PNGFile.write(patternFrame(1, width: 40), to: scratch.file("001.png"))
        let r = failure { try VideoInput.open(scratch.path) }
        expectOneLine(r?.message ?? "", naming: scratch.file("001.png"), saying: ["40x32", "000.png", "48x32"])
        #expect(r?.kind == .mismatch)
    }

    @Test func emptyFolder() throws {
        let scratch = try VideoScratch()
        let r = failure { try VideoInput.open(scratch.path) }
        expectOneLine(r?.message ?? "", naming: scratch.path, saying: ["no PNG frames"])
        #expect(r?.kind == .notFound)
    }
}

/// Runs the real ffmpeg to make test material.
func ffmpeg(_ arguments: [String]) throws {
    let tools = try FFmpegTools.locate(for: "test material")
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tools.ffmpeg)
    p.arguments = ["-nostdin", "-v", "error", "-y"] + arguments
    try p.run()
    p.waitUntilExit()
    if p.terminationStatus != 0 { throw LinstoryError(.tool, "ffmpeg \(arguments) failed") }
}
