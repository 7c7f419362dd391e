import Engine
import Foundation
import Testing
import TestSupport

/// A session split among workers: every worker computes the same shards from the cut list, shards
/// run in any order (each by its own `SessionFolder` value, as separate processes would) fill the
/// session with the bits one process gives, for every method, and a shard stopped half-way and run
/// again finishes with the same bits. `finish` refuses while frames are missing.
@Suite("Shards: one session filled by many workers")
struct SessionShardTests {
    /// 10 frames of tiny32 in three scenes; the second starts with a transition frame (4) and the third
    /// ends with one (9), so sequential's backward frames and scene's loose frames are exercised.
    /// Batch 3: naive's batches are cut by the scenes (0-2, 3; 4-6; 7-9).
    final class Clip {
        static let frames = 10
        let generator: Generator
        let statistics: WStatistics
        let targets: Tensor
        let scenes: SceneList
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-shards-\(UUID().uuidString)").path
        let modelPath = Fixtures.path("stylegan2/tiny32/weights.safetensors")

        init() throws {
            generator = try Fixtures.generator("tiny32")
            statistics = WStatistics.compute(mapping: generator.mapping, samples: 1000, seed: 1)
            var rng = TestRandom(seed: 8)
            let z = rng.tensor([Self.frames, generator.config.zDim])
            targets = generator.synthesize(ws: generator.mapping(z, truncationPsi: 0.7))
            var list = SceneList(cuts: [SceneCut(frame: 4, fps: 25), SceneCut(frame: 7, fps: 25)], frames: Self.frames)
            list.scenes[1].clean = 5..<7
            list.scenes[2].clean = 7..<9
            scenes = list
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        func open(_ name: String) throws -> SessionFolder {
            try SessionFolder.open(folder: "\(root)/\(name)", fresh: SessionFolder.Manifest(
                video: try FileIdentity(path: Clips.bbbShot), model: try FileIdentity(path: modelPath),
                resolution: generator.config.imgResolution, fit: "center-crop", fps: 25, videoFrames: Self.frames, first: 0, count: Self.frames))
        }

        func run(_ method: InversionMethod) -> SessionRun {
            var settings = InversionSettings()
            settings.batch = 3
            settings.seed = 5
            let budget = method == .scene ? 8 : method == .sequential ? 4 : 3
            return SessionRun(method: method, budget: budget, settings: settings, lossName: "default")
        }

        func latents(_ session: SessionFolder, _ method: InversionMethod) throws -> [FrameInversion] {
            try SessionFolder.read(folder: session.folder).readLatents(method: method, noiseNames: generator.synthesis.noiseLayerNames)
        }
    }

    static func sameFrames(_ a: [FrameInversion], _ b: [FrameInversion]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { SessionRunTests.sameFrame($0, $1) }
    }

    @Test("shards are whole scenes balanced by frames, the same from the cut list alone")
    func assignment() throws {
        #expect(SessionShard.assign(sizes: [5, 5, 5, 5], shards: 2) == [0..<2, 2..<4])
        #expect(SessionShard.assign(sizes: [10, 1, 1, 1], shards: 2) == [0..<1, 1..<4])
        #expect(SessionShard.assign(sizes: [3, 3, 3], shards: 1) == [0..<3])
        // Fewer scenes than shards: some shards are empty, none overlaps, all are covered.
        let few = SessionShard.assign(sizes: [3], shards: 3)
        #expect(few.map(\.count).reduce(0, +) == 1 && few.count == 3)
        let many = SessionShard.assign(sizes: (0..<50).map { 10 + ($0 * 37) % 23 }, shards: 7)
        #expect(many.first?.lowerBound == 0 && many.last?.upperBound == 50 && zip(many, many.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(try SessionShard(parsing: "3/8") == SessionShard(index: 3, count: 8))
        for bad in ["0/4", "5/4", "3", "a/b", "1/0", "-1/2"] {
            #expect(throws: LinstoryError.self, "\(bad)") { try SessionShard(parsing: bad) }
        }
    }

    @Test("shards run in any order by separate workers give a one-process run's latents bit for bit", arguments: InversionMethod.allCases)
    func shardedEqualsOneProcess(method: InversionMethod) throws {
        let clip = try Clip()
        let targets = InMemoryTargets(clip.targets)
        var whole = try clip.open("whole")
        _ = try clip.run(method).run(
            session: &whole, generator: clip.generator, statistics: clip.statistics, targets: targets, scenes: clip.scenes, resume: false)
        let expected = try clip.latents(whole, method)

        var split = try clip.open("split")
        try clip.run(method).adopt(session: &split)
        for index in [3, 1, 2] {
            // Each worker reads the session afresh and writes only its frames and its status file.
            let worker = try SessionFolder.read(folder: split.folder)
            let outcome = try clip.run(method).runShard(
                try SessionShard(index: index, count: 3), session: worker, generator: clip.generator, statistics: clip.statistics,
                targets: targets, scenes: clip.scenes)
            #expect(outcome.status.state == .complete && outcome.status.framesDone == outcome.status.frames)
        }
        var finishing = try SessionFolder.read(folder: split.folder)
        _ = try clip.run(method).finish(
            session: &finishing, generator: clip.generator, statistics: clip.statistics, targets: targets, scenes: clip.scenes)
        #expect(Self.sameFrames(try clip.latents(finishing, method), expected), "\(method.rawValue): sharded latents differ")
        #expect(try SessionFolder.read(folder: split.folder).manifest[method]?.complete == true)
        #expect(finishing.shardStatuses(method: method).count == 3)
    }

    @Test("a shard stopped half-way says so, finish refuses naming the missing frames, and running it again finishes with the same bits", arguments: [InversionMethod.naive, .sequential, .scene])
    func stoppedShardRunsAgain(method: InversionMethod) throws {
        let clip = try Clip()
        let targets = InMemoryTargets(clip.targets)
        var whole = try clip.open("whole")
        _ = try clip.run(method).run(
            session: &whole, generator: clip.generator, statistics: clip.statistics, targets: targets, scenes: clip.scenes, resume: false)
        let expected = try clip.latents(whole, method)

        var split = try clip.open("split")
        try clip.run(method).adopt(session: &split)
        let shard = try SessionShard(index: 1, count: 1)
        let recorder = SessionRunTests.RunRecorder(cancelAfterSaved: 4)
        #expect(throws: InversionCancelled.self) {
            _ = try clip.run(method).runShard(
                shard, session: split, generator: clip.generator, statistics: clip.statistics, targets: targets, scenes: clip.scenes,
                observer: { recorder.observe($0) }, onFrame: { recorder.frameSaved($0, $1) })
        }
        let status = try #require(split.shardStatuses(method: method)[shard])
        #expect(status.state == .stopped && status.framesDone >= 4 && status.framesDone < Clip.frames, "\(status)")
        var early = try SessionFolder.read(folder: split.folder)
        let refusal = linstoryFailure {
            _ = try clip.run(method).finish(
                session: &early, generator: clip.generator, statistics: clip.statistics, targets: targets, scenes: clip.scenes)
        }
        #expect(refusal?.contains("is missing") == true, "\(refusal ?? "no error")")

        let again = try clip.run(method).runShard(
            shard, session: try SessionFolder.read(folder: split.folder), generator: clip.generator, statistics: clip.statistics,
            targets: targets, scenes: clip.scenes)
        #expect(again.status.state == .complete)
        var finishing = try SessionFolder.read(folder: split.folder)
        _ = try clip.run(method).finish(
            session: &finishing, generator: clip.generator, statistics: clip.statistics, targets: targets, scenes: clip.scenes)
        #expect(Self.sameFrames(try clip.latents(finishing, method), expected), "\(method.rawValue): resumed shard differs")
    }

    @Test("a session holding frames of other settings is not adopted by a worker with different ones")
    func otherSettingsRefused() throws {
        let clip = try Clip()
        var split = try clip.open("split")
        try clip.run(.naive).adopt(session: &split)
        try clip.run(.naive).adopt(session: &split)  // the same settings again: fine
        _ = try clip.run(.naive).runShard(
            try SessionShard(index: 1, count: 4), session: split, generator: clip.generator, statistics: clip.statistics,
            targets: InMemoryTargets(clip.targets), scenes: clip.scenes)
        var other = clip.run(.naive)
        other.budget = 5
        let message = linstoryFailure { try other.adopt(session: &split) }
        #expect(message?.contains("other settings") == true, "\(message ?? "no error")")
    }
}
