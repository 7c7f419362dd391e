import Engine
import Foundation
import Testing
import TestSupport

/// The frame store holds exactly the targets a straight decode gives, bit for bit, over every frame
/// of the sample clip (202 frames, 9 shots): filled by ffmpeg as a second output of the detection
/// pass, by a pass of its own, and from a PNG folder in Swift; and detection finds the same cuts
/// whether or not it fills a store. A pass that fails leaves no store behind.
final class TargetStoreTests {
    let scratch: TemporaryFolder

    init() throws { scratch = try TemporaryFolder("linstory-store") }

    static func sameTargets(_ store: TargetStore, _ clip: ClipTargets, channels: Int) throws -> Bool {
        sameBits(try store.targets(0..<store.count, channels: channels), clip.targets)
    }

    @Test(arguments: [FitPolicy.centerCrop, .letterbox])
    func theDetectionPassStoresWhatAStraightDecodeGives(fit: FitPolicy) throws {
        let clip = try ClipTargets.read(video: Clips.bbbCuts, resolution: 48, channels: 3, fit: fit, window: nil)
        let plain = try SceneDetector.detect(video: Clips.bbbCuts)
        let request = SceneDetector.StoreRequest(path: scratch.path + "/all.rgb", resolution: 48, fit: fit)
        let withStore = try SceneDetector.detect(video: Clips.bbbCuts, store: request)
        let store = try #require(withStore.store)
        #expect(withStore.cuts == plain.cuts, "one decode, the same cuts")
        #expect(store.count == 202 && store.header.first == 0 && store.header.videoFrames == 202 && store.header.fps == 25)
        #expect(try Self.sameTargets(store, clip, channels: 3))
        // Reopened from disk, and as luma for a one-channel model.
        let reopened = try TargetStore(path: request.path)
        let grey = try ClipTargets.read(video: Clips.bbbCuts, resolution: 48, channels: 1, fit: fit, window: 150..<160)
        #expect(sameBits(try reopened.targets(150..<160, channels: 1), grey.targets))
    }

    @Test func aWindowAPassOfItsOwnAndAPNGFolderStoreTheSameFrames() throws {
        let clip = try ClipTargets.read(video: Clips.bbbCuts, resolution: 32, channels: 3, fit: .centerCrop, window: 40..<75)
        let windowed = try #require(try SceneDetector.detect(
            video: Clips.bbbCuts, store: .init(path: scratch.path + "/w.rgb", resolution: 32, fit: .centerCrop, window: 40..<75)).store)
        #expect(windowed.header.first == 40 && windowed.count == 35)
        #expect(try Self.sameTargets(windowed, clip, channels: 3))
        let own = try TargetStore.build(video: Clips.bbbCuts, path: scratch.path + "/own.rgb", resolution: 32, fit: .centerCrop, window: 40..<75)
        #expect(try Self.sameTargets(own, clip, channels: 3))

        // A PNG folder of full-size frames: decoded in Swift, fitted with the same geometry.
        let folder = scratch.path + "/png"
        let writer = try PNGFolderWriter(folder: folder)
        let source = try VideoInput.open(Clips.bbbCuts)
        for _ in 0..<12 { try writer.write(try #require(try source.next())) }
        source.close()
        let pngClip = try ClipTargets.read(video: folder, resolution: 32, channels: 3, fit: .centerCrop, window: nil)
        let pngPlain = try SceneDetector.detect(video: folder)
        let png = try SceneDetector.detect(video: folder, store: .init(path: scratch.path + "/png.rgb", resolution: 32, fit: .centerCrop))
        #expect(png.cuts == pngPlain.cuts)
        #expect(try Self.sameTargets(try #require(png.store), pngClip, channels: 3))
    }

    @Test func aFailedPassLeavesNoStoreAndADamagedOneIsRefused() throws {
        let path = scratch.path + "/late.rgb"
        #expect(throws: LinstoryError.self) {
            _ = try SceneDetector.detect(video: Clips.bbbCuts, store: .init(path: path, resolution: 16, fit: .centerCrop, window: 500..<600))
        }
        #expect(!FileManager.default.fileExists(atPath: path) && !FileManager.default.fileExists(atPath: path + ".partial"))
        #expect(!FileManager.default.fileExists(atPath: TargetStore.headerPath(path)))

        let good = try TargetStore.build(video: Clips.bbbCuts, path: scratch.path + "/s.rgb", resolution: 16, fit: .centerCrop, window: 0..<4)
        let handle = try #require(FileHandle(forWritingAtPath: good.path))
        try handle.truncate(atOffset: UInt64(3 * 16 * 16 * 3))
        try handle.close()
        do {
            _ = try TargetStore(path: good.path)
            Issue.record("a store shorter than its header was opened")
        } catch let e as LinstoryError {
            #expect(e.kind == .corrupt && e.message.hasPrefix(good.path), "\(e)")
        }
    }
}
