import Engine
import Foundation
import Testing
import TestSupport

@Suite("video writing")
struct VideoWriterTests {
    @Test func pngFolderRoundTrip() throws {
        let scratch = try VideoScratch()
        let frames = (0..<12).map { patternFrame($0) }
        let writer = try PNGFolderWriter(folder: scratch.file("out"))
        for f in frames { try writer.write(f) }
        try writer.finish()
        #expect(writer.framesWritten == 12)
        let reader = try VideoInput.open(scratch.file("out"))
        var back: [RGBImage] = []
        while let f = try reader.next() { back.append(f) }
        #expect(back == frames)
    }

    @Test func mp4RoundTripIsCloseAndH264() throws {
        let scratch = try VideoScratch()
        let path = scratch.file("clip.mp4")
        let frames = try Clips.frames(Clips.bbbCuts, scaling: .square(64, .centerCrop)).prefix(30)
        let writer = try VideoFileWriter(path: path, width: 64, height: 64, fps: 25)
        for f in frames { try writer.write(f) }
        try writer.finish()
        // Nothing but the video in the folder: the temporary file was renamed.
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["clip.mp4"])
        let reader = try VideoFileReader(path: path)
        #expect(reader.info == VideoInfo(width: 64, height: 64, fps: 25, frameCount: 30, frameCountIsExact: true))
        var i = 0
        while let f = try reader.next() {
            // Lossy: H.264 at crf 18 and chroma at half resolution (yuv420p) cost a few levels on 64x64 frames
            // (crf 18 ~ 1-2 levels; halving chroma on a cartoon's sharp colour edges a few more): < 8.
            #expect(meanAbsoluteDifference(f, frames[frames.startIndex + i]) < 8, "frame \(i)")
            i += 1
        }
        #expect(i == 30)
        #expect(try probe(path, "stream=codec_name,pix_fmt") == "h264,yuv420p")
    }

    @Test func oddSizesArePaddedForYUV420() throws {
        let scratch = try VideoScratch()
        let path = scratch.file("odd.mp4")
        let writer = try VideoFileWriter(path: path, width: 33, height: 17, fps: 10)
        for i in 0..<3 { try writer.write(patternFrame(i, width: 33, height: 17)) }
        try writer.finish()
        let reader = try VideoFileReader(path: path)
        #expect(reader.info.width == 34 && reader.info.height == 18)
    }

    @Test func abandonedWriterLeavesNoFile() throws {
        let scratch = try VideoScratch()
        do {
            let writer = try VideoFileWriter(path: scratch.file("gone.mp4"), width: 16, height: 16, fps: 25)
            try writer.write(patternFrame(0, width: 16, height: 16))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == [])
        #expect(zombieChildren() == [])
    }

    @Test func writingWithNoFramesFails() throws {
        let scratch = try VideoScratch()
        let writer = try VideoFileWriter(path: scratch.file("empty.mp4"), width: 16, height: 16, fps: 25)
        let error = #expect(throws: LinstoryError.self) { try writer.finish() }
        #expect(error?.kind == .invalidValue)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == [])
    }

    @Test func writingIntoAMissingFolderFails() {
        let error = #expect(throws: LinstoryError.self) { _ = try VideoFileWriter(path: "/no/such/folder/x.mp4", width: 16, height: 16, fps: 25) }
        #expect(error?.kind == .notFound)
    }

    @Test func sideBySideVideo() throws {
        let scratch = try VideoScratch()
        let path = scratch.file("compare.mp4")
        let writer = try SideBySideVideoWriter(path: path, panelWidth: 32, panelHeight: 32, fps: 25)
        let white = RGBImage(width: 32, height: 32, fill: (255, 255, 255))
        let black = RGBImage(width: 32, height: 32)
        for _ in 0..<5 { try writer.write(target: white, reconstruction: black) }
        try writer.finish()
        let frame = try #require(try VideoFileReader(path: path).next())
        #expect(frame.width == 66 && frame.height == 32)
        func luma(_ x: Int, _ y: Int) -> Int { Int(frame.pixels[(y * frame.width + x) * 3]) }
        // Limited-range YUV and H.264 keep flat white / black within a few levels; 15 of room each way.
        #expect(luma(10, 16) > 240 && luma(50, 16) < 15)
    }

    @Test func contactSheetLayout() throws {
        let a = RGBImage(width: 4, height: 2, fill: (255, 0, 0)), b = RGBImage(width: 2, height: 2, fill: (0, 255, 0))
        let sheet = ContactSheet.render(frames: [a, b, a], columns: 2, gap: 1)
        // Cells 4x2, two columns, two rows, a 1-pixel gap around and between.
        #expect(sheet.width == 2 * 4 + 3 && sheet.height == 2 * 2 + 3)
        func px(_ x: Int, _ y: Int) -> [UInt8] { Array(sheet.pixels[((y * sheet.width + x) * 3)..<((y * sheet.width + x) * 3 + 3)]) }
        #expect(px(0, 0) == [40, 40, 40])
        #expect(px(1, 1) == [255, 0, 0])
        #expect(px(6, 1) == [40, 40, 40] && px(7, 1) == [0, 255, 0] && px(8, 1) == [0, 255, 0])  // b centred in its cell
        #expect(px(1, 4) == [255, 0, 0])
        let scratch = try VideoScratch()
        try ContactSheet.write(rows: [[a, b], [b]], to: scratch.file("sheet.png"))
        #expect(try PNGFile.read(path: scratch.file("sheet.png")) == ContactSheet.render(rows: [[a, b], [b]]))
    }
}

/// ffprobe's `entries` for the first video stream, comma-separated.
func probe(_ path: String, _ entries: String) throws -> String {
    let tools = try FFmpegTools.locate(for: path)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tools.ffprobe)
    p.arguments = ["-v", "error", "-select_streams", "v:0", "-show_entries", entries, "-of", "csv=p=0", path]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
