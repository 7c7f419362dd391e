import Engine
import Foundation
import Testing
import TestSupport

/// `SessionPreparation.prepare`, the one way invert, compare and open start a session, on the
/// one-shot sample clip at 32 px: the cut-list rule (a given file replaces the session's, the
/// session's own wins over detection, detection is saved), and `export` of what is inverted so far.
final class SessionPreparationTests {
    let scratch: TemporaryFolder
    let model = Fixtures.path("stylegan2/tiny32/weights.safetensors")
    var folder: String { scratch.path + "/session" }

    init() throws { scratch = try TemporaryFolder("linstory-prepare") }

    func prepare(cutsFile: String? = nil, detection: SessionPreparation.Detection = .now, decoded: ((Int, Int?) -> Void)? = nil) throws -> SessionPreparation {
        try SessionPreparation.prepare(
            video: Clips.bbbShot, model: model, folder: folder, resolution: 32, window: 0..<12, cutsFile: cutsFile, detection: detection,
            decodeProgress: decoded)
    }

    @Test func theCutListRule() throws {
        // Deferred on a fresh session: no cuts until the caller saves them; nothing written.
        let deferred = try prepare(detection: .deferred)
        #expect(deferred.cuts == nil && !FileManager.default.fileExists(atPath: deferred.session.cutsPath))
        #expect(deferred.store.count == 12 && deferred.store.header.resolution == 32 && deferred.session.manifest.videoFrames == 132)
        // Detected, and saved into the session.
        // The frame store is there: opening again decodes nothing, not even to detect (a pass of its own).
        var decodedAgain = 0
        let detected = try prepare { _, _ in decodedAgain += 1 }
        #expect(decodedAgain > 0, "detection decodes the video")
        decodedAgain = 0
        let reopened = try prepare(detection: .deferred) { _, _ in decodedAgain += 1 }
        #expect(decodedAgain == 0)
        // The detector's curve is kept too, so the UI shows it without decoding.
        #expect(detected.curve?.count == 132 && reopened.curve == detected.curve)
        let expected = try SceneDetector.detect(video: Clips.bbbShot).cuts
        #expect(detected.cuts == expected)
        #expect(try CutList.read(path: detected.session.cutsPath) == expected)
        // The user's edit in the session wins over detection when opened again...
        var edited = detected
        try edited.saveCuts(CutList(frames: 132, fps: 25, cuts: [SceneCut(frame: 60, fps: 25)]))
        #expect(try prepare().cuts?.cuts.map(\.frame) == [60])
        #expect(try prepare(detection: .deferred).cuts?.cuts.map(\.frame) == [60])
        // ...and a cuts file given replaces it, in the session too.
        let file = scratch.path + "/cuts.csv"
        try CutList(frames: 132, fps: 25, cuts: [SceneCut(frame: 30, fps: 25), SceneCut(frame: 90, fps: 25)]).write(to: file)
        #expect(try prepare(cutsFile: file).cuts?.cuts.map(\.frame) == [30, 90])
        #expect(try CutList.read(path: detected.session.cutsPath).cuts.map(\.frame) == [30, 90])
        // A list made for a video of another length is refused, naming the file.
        try CutList(frames: 500, fps: 25, cuts: [SceneCut(frame: 300, fps: 25)]).write(to: scratch.path + "/other.json")
        do {
            _ = try prepare(cutsFile: scratch.path + "/other.json")
            Issue.record("a cut list for another video was accepted")
        } catch let e as LinstoryError {
            #expect(e.message.hasPrefix(scratch.path + "/other.json"), "\(e)")
        }
    }

    @Test func exportWritesTheInvertedFramesLatentsAndTheSideBySideVideo() throws {
        let g = try Fixtures.generator("tiny32")
        let prepared = try prepare(detection: .deferred)
        var rng = TestRandom(seed: 9)
        let ws = g.mapping(rng.tensor([2, g.config.zDim]))  // [2, num_ws, w_dim]
        let frames = [3, 7].enumerated().map { k, i in
            (index: i, frame: FrameInversion(
                ws: ws.slice(k..<(k + 1)).reshaped([g.config.numWs, g.config.wDim]), noise: nil, lossHistory: [], finalLoss: 0, evaluations: 0))
        }
        let cuts = CutList(frames: 132, fps: 25, cuts: [SceneCut(frame: 6, fps: 25)])
        let e = try prepared.session.export(
            method: .scene, indices: frames.map(\.index), frame: { i in frames.first { $0.index == i }!.frame }, cuts: cuts, generators: SceneGenerators(base: g, session: prepared.session, method: .scene),
            targets: StoredTargets(store: prepared.store, channels: 3))
        #expect(e.written == ["cuts.json", "cuts.csv", "scene.npz", "scene.mp4"] && e.framesInverted == 2)
        let npz = try NpzArchive.read(path: e.folder + "/scene.npz")
        #expect(sameBits(try #require(npz["w"]), ws))
        #expect(npz["frames"]?.scalars == [3, 7])
        #expect(try CutList.read(path: e.folder + "/cuts.csv").cuts.map(\.frame) == [6])
        // Every target frame is in the video, the reconstruction beside it.
        let video = try VideoInput.open(e.folder + "/scene.mp4")
        defer { video.close() }
        var count = 0
        while let image = try video.next() {
            #expect(image.width == 2 * 32 + 2 && image.height == 32)
            count += 1
        }
        #expect(count == 12)
    }

    /// Ctrl-C during the decode (the progress callback throws): the pass stops at once and leaves
    /// neither a frame store nor a partial one, nor a session that would claim frames it lacks.
    @Test func aStoppedDecodeLeavesNothingBehind() throws {
        struct Stop: Error {}
        var calls = 0
        #expect(throws: Stop.self) {
            _ = try SessionPreparation.prepare(
                video: Clips.bbbCuts, model: self.model, folder: self.folder, resolution: 32, decodeProgress: { _, _ in
                    calls += 1
                    throw Stop()
                })
        }
        #expect(calls == 1, "stopped at the first report")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: folder + "/targets")) ?? []
        #expect(left.isEmpty, "\(left)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/session.json"))
    }
}
