import Engine
import Foundation
import Testing
import TestSupport

/// A fresh folder for one test, removed afterwards.
final class VideoScratch {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("video-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
}

/// A frame whose pixels encode its index and position, so order and geometry can be checked.
func patternFrame(_ index: Int, width: Int = 48, height: Int = 32) -> RGBImage {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            let p = (y * width + x) * 3
            pixels[p] = UInt8(index * 20 % 256); pixels[p + 1] = UInt8(x * 255 / max(width - 1, 1)); pixels[p + 2] = UInt8(y * 255 / max(height - 1, 1))
        }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
}

func meanAbsoluteDifference(_ a: RGBImage, _ b: RGBImage) -> Double {
    precondition(a.pixels.count == b.pixels.count)
    return Double(zip(a.pixels, b.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(a.pixels.count)
}

@Suite("video reading")
struct VideoReaderTests {
    @Test func probesAndStreamsTheSampleClip() throws {
        let reader = try VideoFileReader(path: Clips.bbbCuts)
        #expect(reader.info == VideoInfo(width: 640, height: 360, fps: 25, frameCount: 202, frameCountIsExact: true))
        var count = 0
        while let frame = try reader.next() {
            #expect(frame.width == 640 && frame.height == 360)
            count += 1
        }
        #expect(count == 202 && reader.framesRead == 202)
        #expect(try reader.next() == nil)
    }

    @Test func ffmpegScalesBeforeThePipe() throws {
        let reader = try VideoFileReader(path: Clips.bbbShot, scaling: .width(64))
        #expect(reader.sourceWidth == 1280 && reader.sourceHeight == 720)
        #expect(reader.info.width == 64 && reader.info.height == 36)
        let first = try #require(try reader.next())
        #expect(first.width == 64 && first.height == 36)
        // ffmpeg's area scaling and ours agree on the same frame to within a few levels: ffmpeg scales the
        // YUV planes (chroma at half resolution, fixed-point weights) and converts after, we convert then
        // average; rounding and chroma siting cost ~1 level on average. A crop or offset error is tens.
        let full = try #require(try VideoFileReader(path: Clips.bbbShot).next())
        #expect(meanAbsoluteDifference(first, AreaResampler.resize(full, width: 64, height: 36)) < 3)
    }

    @Test(arguments: FitPolicy.allCases)
    func fitPoliciesMatchBetweenFFmpegAndSwift(policy: FitPolicy) throws {
        let reader = try VideoFileReader(path: Clips.bbbCuts, scaling: .square(64, policy))
        let viaFFmpeg = try #require(try reader.next())
        let full = try #require(try VideoFileReader(path: Clips.bbbCuts).next())
        let viaSwift = policy.fit(full, side: 64)
        #expect(viaFFmpeg.width == 64 && viaFFmpeg.height == 64)
        #expect(meanAbsoluteDifference(viaFFmpeg, viaSwift) < 3, "\(policy)")  // as in ffmpegScalesBeforeThePipe
    }

    @Test func closingEarlyStopsFFmpeg() throws {
        for _ in 0..<5 {
            let reader = try VideoFileReader(path: Clips.bbbShot)
            _ = try reader.next()
            reader.close()
            #expect(try reader.next() == nil)
        }
        #expect(zombieChildren() == [], "children left unreaped")
    }

    @Test func pngFolderReadsInNaturalOrder() throws {
        let scratch = try VideoScratch()
        let names = ["frame10.png", "frame2.png", "frame1.png", "frame002b.png"]
        for (i, name) in names.enumerated() { try PNGFile.write(patternFrame(i), to: scratch.file(name)) }
        try Data("notes".utf8).write(to: URL(fileURLWithPath: scratch.file(".DS_Store")))
        try FileManager.default.createDirectory(atPath: scratch.file("thumbnails"), withIntermediateDirectories: true)
        let reader = try PNGFolderReader(folder: scratch.path, fps: 12)
        #expect(reader.files.map { ($0 as NSString).lastPathComponent } == ["frame1.png", "frame2.png", "frame002b.png", "frame10.png"])
        #expect(reader.info == VideoInfo(width: 48, height: 32, fps: 12, frameCount: 4, frameCountIsExact: true))
        var order: [UInt8] = []
        while let f = try reader.next() { order.append(f.pixels[0]) }
        #expect(order == [2, 1, 3, 0].map { UInt8($0 * 20) })
    }

    @Test func pngFolderScalesInSwift() throws {
        let scratch = try VideoScratch()
        try PNGFile.write(patternFrame(0, width: 64, height: 48), to: scratch.file("0.png"))
        let source = try VideoInput.open(scratch.path, scaling: .square(32, .letterbox))
        #expect(source.info.width == 32 && source.info.height == 32)
        let f = try #require(try source.next())
        #expect(f.width == 32 && f.height == 32)
        #expect(f.pixels[0..<3] == [0, 0, 0])  // the letterbox bar
    }

    @Test func naturalOrderComparesNumbersByValue() {
        let sorted = ["a10", "a9", "a09", "b", "a", "a1b", "a1a"].sorted { PNGFolderReader.naturalOrder($0, $1) }
        #expect(sorted == ["a", "a1a", "a1b", "a9", "a09", "a10", "b"])
    }
}

/// Children of this process that have exited but not been waited for.
func zombieChildren() -> [Int32] {
    let me = getpid()
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
        return fields.count > 1 && fields[0] == "Z" && Int32(fields[1]) == me
    }
}
