import Engine
import Foundation
import Testing
import TestSupport

// Over 400 lines on purpose: every SessionRun behaviour shares the Bench and RunRecorder below; split
// by concern, the fixture would be scattered or copied.

/// Sessions end to end on the tiny32 fixture generator (4 frames, a few steps a frame): a run
/// cancelled after its second saved frame resumes with only the pending frames, the saved frames
/// come back bit for bit, `redo` recomputes only its ranges, and nothing half-written is left behind.
@Suite("SessionRun: per-frame saves, resume, redo")
struct SessionRunTests {
    /// Counts the observer's calls (one per optimisation step, with the frames it worked on) and
    /// the frames `onFrame` hears of; cancels once `cancelAfterSaved` frames are saved.
    final class RunRecorder: @unchecked Sendable {
        private let lock = NSLock()
        private var steps: [[Int]] = []
        private var saved: [(Int, FrameInversion)] = []
        let cancelAfterSaved: Int?

        init(cancelAfterSaved: Int? = nil) { self.cancelAfterSaved = cancelAfterSaved }

        private func locked<T>(_ body: () -> T) -> T {
            lock.lock()
            defer { lock.unlock() }
            return body()
        }

        func observe(_ p: InversionProgress) -> Bool {
            locked {
                steps.append(p.frames)
                return cancelAfterSaved.map { saved.count < $0 } ?? true
            }
        }

        func frameSaved(_ index: Int, _ frame: FrameInversion) { locked { saved.append((index, frame)) } }

        var stepFrames: [[Int]] { locked { steps } }
        var savedIndices: [Int] { locked { saved.map(\.0) } }
        var savedFrames: [Int: FrameInversion] { locked { Dictionary(saved, uniquingKeysWith: { $1 }) } }
    }

    /// A temporary session folder for the tiny32 generator and 4 frames rendered from it.
    final class Bench {
        static let frames = 4
        let generator: Generator
        let statistics: WStatistics
        let targets: Tensor
        let folder: String
        let modelPath = Fixtures.path("stylegan2/tiny32/weights.safetensors")
        let videoPath = Clips.bbbShot  // any file: the session records its identity

        init() throws {
            generator = try Fixtures.generator("tiny32")
            statistics = WStatistics.compute(mapping: generator.mapping, samples: 1000, seed: 1)
            var rng = TestRandom(seed: 21)
            let z = rng.tensor([Self.frames, generator.config.zDim])
            targets = generator.synthesize(ws: generator.mapping(z, truncationPsi: 0.7))
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("linstory-session-\(UUID().uuidString)").path
        }

        deinit { try? FileManager.default.removeItem(atPath: folder) }

        func manifest(video: String? = nil, model: String? = nil, count: Int = frames) throws -> SessionFolder.Manifest {
            SessionFolder.Manifest(
                video: try FileIdentity(path: video ?? videoPath), model: try FileIdentity(path: model ?? modelPath),
                resolution: generator.config.imgResolution, fit: "center-crop", fps: 25, videoFrames: Self.frames, first: 0, count: count)
        }

        /// Opens (or re-opens, as `--resume` does) the session.
        func open() throws -> SessionFolder { try SessionFolder.open(folder: folder, fresh: try manifest()) }

        func run(
            _ method: InversionMethod, session: inout SessionFolder, budget: Int, resume: Bool, redo: [Range<Int>] = [],
            recorder: RunRecorder
        ) throws -> SessionRun.Outcome {
            var settings = InversionSettings()
            settings.batch = 1  // naive saves frame by frame
            settings.seed = 3
            return try SessionRun(method: method, budget: budget, settings: settings, lossName: "default").run(
                session: &session, generator: generator, statistics: statistics, targets: InMemoryTargets(targets),
                scenes: SceneList(cuts: [], frames: Self.frames), resume: resume, redo: redo,
                observer: { recorder.observe($0) }, onFrame: { recorder.frameSaved($0, $1) })
        }

        /// Runs until `recorder` cancels; true when the run was cancelled (InversionCancelled).
        func runCancelled(_ method: InversionMethod, session: inout SessionFolder, budget: Int, recorder: RunRecorder) throws -> Bool {
            do {
                _ = try run(method, session: &session, budget: budget, resume: false, recorder: recorder)
                return false
            } catch is InversionCancelled {
                return true
            }
        }

        func framePath(_ method: InversionMethod, _ i: Int) -> String {
            String(format: "%@/frames/%@/%06d.safetensors", folder, method.rawValue, i)
        }

        /// The method's assembled frames, as the run left them in the session (window order).
        func results(_ method: InversionMethod) throws -> [FrameInversion] {
            try SessionFolder.read(folder: folder).readLatents(method: method, noiseNames: generator.synthesis.noiseLayerNames)
        }

        /// Files whose names say they are an unfinished atomic write (".NAME.tmp-PID-RANDOM").
        func leftovers() -> [String] {
            let all = FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []
            return all.filter { ($0 as NSString).lastPathComponent.contains(".tmp-") }
        }
    }

    static func sameFrame(_ a: FrameInversion, _ b: FrameInversion) -> Bool {
        guard sameBits(a.ws, b.ws), (a.noise == nil) == (b.noise == nil) else { return false }
        return zip(a.noise ?? [], b.noise ?? []).allSatisfy { sameBits($0, $1) }
    }

    @Test("naive: cancelled after two saved frames, resumed (same session value) with the two pending ones only")
    func naiveResume() throws {
        let bench = try Bench()
        let budget = 3
        var session = try bench.open()
        let first = RunRecorder(cancelAfterSaved: 2)
        #expect(try bench.runCancelled(.naive, session: &session, budget: budget, recorder: first))
        #expect(first.savedIndices == [0, 1])
        // Frame 2's first step ran and was told to stop.
        #expect(first.stepFrames == Array(repeating: [0], count: budget) + Array(repeating: [1], count: budget) + [[2]])

        let onDisk = try SessionFolder.read(folder: bench.folder).manifest[.naive]
        #expect(onDisk?.status == "dd.." && onDisk?.complete == false && onDisk?.evaluations == 2 * budget, "\(String(describing: onDisk))")
        #expect(session.manifest[.naive]?.status == "dd..", "the caller's session must know what is saved (it reports it and saves it again)")
        #expect(FileManager.default.fileExists(atPath: bench.framePath(.naive, 1)))
        #expect(!FileManager.default.fileExists(atPath: bench.framePath(.naive, 2)))
        #expect(bench.leftovers().isEmpty, "\(bench.leftovers())")

        // Resume with the same session value, as a background job paused and resumed does.
        let second = RunRecorder()
        let outcome = try bench.run(.naive, session: &session, budget: budget, resume: true, recorder: second)
        #expect(second.stepFrames.count == 2 * budget && Set(second.stepFrames) == [[2], [3]], "\(second.stepFrames)")
        #expect(second.savedIndices == [2, 3])
        let results = try bench.results(.naive)
        for i in 0..<2 { #expect(Self.sameFrame(results[i], first.savedFrames[i]!), "frame \(i) must come back bit for bit") }
        for i in 2..<4 { #expect(Self.sameFrame(results[i], second.savedFrames[i]!)) }
        let record = try SessionFolder.read(folder: bench.folder).manifest[.naive]
        #expect(record?.status == "dddd" && record?.complete == true && record?.evaluations == 4 * budget)
        #expect(outcome.evaluations == 4 * budget)
        // The assembled latents hold the saved frames.
        let w = try SafeTensorsFile(path: bench.folder + "/latents/naive.safetensors").tensor("w")
        #expect(w.shape == [4, bench.generator.config.numWs, bench.generator.config.wDim])
        for i in 0..<4 { #expect(sameBits(w.slice(i..<(i + 1)).reshaped(Array(w.shape.dropFirst())), second.savedFrames[i]?.ws ?? first.savedFrames[i]!.ws)) }
        #expect(bench.leftovers().isEmpty, "\(bench.leftovers())")
    }

    @Test("scene: each saved frame records its line, and the scene's path rebuilt from the files gives the frames back")
    func sceneFramesRecordTheirSegment() throws {
        let bench = try Bench()
        var session = try bench.open()
        let recorder = RunRecorder()
        _ = try bench.run(.scene, session: &session, budget: 3, resume: false, recorder: recorder)
        let results = try bench.results(.scene)
        // Four frames are fewer than two minimum segments: one line over the scene.
        #expect(results.allSatisfy { $0.segment == 0...3 }, "\(results.map(\.segment))")
        let reopened = try SessionFolder.read(folder: bench.folder)
        let names = bench.generator.synthesis.noiseLayerNames
        let saved = (0..<4).map { reopened.readFrame(index: $0, method: .scene, noiseNames: names) }
        #expect(saved.allSatisfy { $0?.segment == 0...3 })
        let path = try #require(LatentPath(scene: 0...3) { saved[$0] })
        #expect(path.segments.map(\.frames) == [0...3])
        for i in 0..<4 {
            // The same line through the same ends: a few float32 roundings of latents of size ~1.
            let d = TensorComparison("frame \(i)", ours: path.latent(atFrame: Double(i)), reference: results[i].ws).maxAbsDiff
            #expect(d <= 2e-6, "frame \(i): \(d)")
        }
    }

    @Test("naive: a saved frame whose file is damaged is redone on resume")
    func damagedFrameRedone() throws {
        let bench = try Bench()
        var session = try bench.open()
        let first = RunRecorder(cancelAfterSaved: 2)
        #expect(try bench.runCancelled(.naive, session: &session, budget: 2, recorder: first))
        let path = bench.framePath(.naive, 1)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        var reopened = try bench.open()
        let second = RunRecorder()
        _ = try bench.run(.naive, session: &reopened, budget: 2, resume: true, recorder: second)
        #expect(second.savedIndices == [1, 2, 3], "frame 1's file is cut short: it must be redone")
        #expect(Self.sameFrame(try bench.results(.naive)[0], first.savedFrames[0]!))
        #expect(try SessionFolder.read(folder: bench.folder).manifest[.naive]?.status == "dddd")
    }

    @Test("sequential: cancelled after two saved frames, reopened and resumed: the scene in flight is done again from its start, and every frame equals an uninterrupted run's bit for bit")
    func sequentialResume() throws {
        let bench = try Bench()
        // 4 frames, one scene, budget 4: warm frames get max(1, 4 * 4 / (4 + 9)) = 1 step, the first 10.
        let budget = 4
        var session = try bench.open()
        let first = RunRecorder(cancelAfterSaved: 2)
        #expect(try bench.runCancelled(.sequential, session: &session, budget: budget, recorder: first))
        #expect(first.stepFrames == Array(repeating: [0], count: 10) + [[1], [2]], "\(first.stepFrames)")
        #expect(try SessionFolder.read(folder: bench.folder).manifest[.sequential]?.status == "dd..")
        #expect(session.manifest[.sequential]?.status == "dd..", "the caller's session must know what is saved")

        var reopened = try bench.open()
        let second = RunRecorder()
        _ = try bench.run(.sequential, session: &reopened, budget: budget, resume: true, recorder: second)
        // A frame continues the one before with Adam's moments, which no file keeps: the scene is redone.
        #expect(second.stepFrames == Array(repeating: [0], count: 10) + [[1], [2], [3]], "\(second.stepFrames)")
        let results = try bench.results(.sequential)
        for i in 0..<2 { #expect(Self.sameFrame(results[i], first.savedFrames[i]!), "frame \(i) must come back bit for bit") }
        let whole = try Bench()
        var wholeSession = try whole.open()
        _ = try whole.run(.sequential, session: &wholeSession, budget: budget, resume: false, recorder: RunRecorder())
        let uninterrupted = try whole.results(.sequential)
        for i in 0..<4 { #expect(Self.sameFrame(results[i], uninterrupted[i]), "frame \(i) differs from an uninterrupted run's") }
        #expect(try SessionFolder.read(folder: bench.folder).manifest[.sequential]?.status == "dddd")
        #expect(bench.leftovers().isEmpty, "\(bench.leftovers())")
    }

    @Test("sequential with its steps given outright: the first frame of each scene gets `first`, the others `warm`; the schedule is part of what resume must match")
    func sequentialSchedule() throws {
        let bench = try Bench()
        var settings = InversionSettings()
        settings.seed = 3
        let scenes = SceneList(cuts: [SceneCut(frame: 2, fps: 25)], frames: Bench.frames)
        func run(_ schedule: SequentialProjector.Schedule, session: inout SessionFolder, recorder: RunRecorder) throws -> SessionRun.Outcome {
            var inversion = SessionRun(method: .sequential, budget: 4, settings: settings, lossName: "default")
            inversion.sequentialSchedule = schedule
            inversion.measureHeldOut = false
            return try inversion.run(
                session: &session, generator: bench.generator, statistics: bench.statistics, targets: InMemoryTargets(bench.targets), scenes: scenes,
                resume: true, observer: { recorder.observe($0) }, onFrame: { recorder.frameSaved($0, $1) })
        }
        let schedule = SequentialProjector.Schedule(warm: 1, first: 3)
        var session = try bench.open()
        let recorder = RunRecorder()
        let outcome = try run(schedule, session: &session, recorder: recorder)
        #expect(recorder.stepFrames == [[0], [0], [0], [1], [2], [2], [2], [3]], "\(recorder.stepFrames)")
        #expect(outcome.evaluations == 8)
        #expect((0..<4).map { session.readFrame(index: $0, method: .sequential, noiseNames: bench.generator.synthesis.noiseLayerNames)?.evaluations } == [3, 1, 3, 1])
        #expect(schedule.evaluations(frames: 4, sceneStarts: 2) == 8)
        let record = try SessionFolder.read(folder: bench.folder).manifest[.sequential]
        #expect(record?.schedule == schedule && record?.evaluations == 8)

        // Same schedule: nothing to do. Another schedule: the saved frames do not count.
        let idle = RunRecorder()
        _ = try run(schedule, session: &session, recorder: idle)
        #expect(idle.stepFrames.isEmpty)
        let other = RunRecorder()
        _ = try run(SequentialProjector.Schedule(warm: 2, first: 3), session: &session, recorder: other)
        #expect(other.stepFrames.count == 3 + 2 + 3 + 2, "\(other.stepFrames)")
    }

    @Test("expectedEvaluations is the steps a run makes: sequential at budget 1 gives each scene's first frame 10 and the rest 1, more than budget x frames", arguments: [InversionMethod.sequential, .naive, .scene])
    func expectedEvaluationsAreTheStepsTaken(_ method: InversionMethod) throws {
        let bench = try Bench()
        var settings = InversionSettings()
        settings.seed = 3
        settings.batch = 1
        let scenes = SceneList(cuts: [SceneCut(frame: 2, fps: 25)], frames: Bench.frames)
        var inversion = SessionRun(method: method, budget: 1, settings: settings, lossName: "default")
        inversion.measureHeldOut = false
        var session = try bench.open()
        let recorder = RunRecorder()
        let outcome = try inversion.run(
            session: &session, generator: bench.generator, statistics: bench.statistics, targets: InMemoryTargets(bench.targets), scenes: scenes,
            resume: true, observer: { recorder.observe($0) }, onFrame: { recorder.frameSaved($0, $1) })
        let starts = SessionRun.sequentialStartFrames(scenes, first: 0, count: Bench.frames)
        let expected = inversion.expectedEvaluations(count: Bench.frames, starts: starts.count)
        #expect(recorder.stepFrames.count == expected && outcome.evaluations == expected, "\(recorder.stepFrames.count) steps, \(expected) expected")
        #expect(expected == (method == .sequential ? 10 + 1 + 10 + 1 : Bench.frames))
        // Of a resumed run's pending frames: here the second scene alone.
        #expect(inversion.expectedEvaluations(count: Bench.frames, starts: starts.count, pending: 2, pendingStarts: 1) == (method == .sequential ? 11 : 2))
    }

    @Test("smooth from naive's saved frames: its assembled latents are naive's filtered within scenes, bit for bit, read a few frames at a time")
    func smoothFiltersNaiveWithinScenes() throws {
        let bench = try Bench()
        var settings = InversionSettings()
        settings.seed = 3
        // Scenes of 3 and 1 frames: the filter must stop at the cut and leave the lone frame alone.
        let scenes = SceneList(cuts: [SceneCut(frame: 3, fps: 25)], frames: Bench.frames)
        var session = try bench.open()
        for method in [InversionMethod.naive, .smooth] {
            var run = SessionRun(method: method, budget: 2, settings: settings, lossName: "default")
            run.measureHeldOut = method == .smooth
            let recorder = RunRecorder()
            _ = try run.run(
                session: &session, generator: bench.generator, statistics: bench.statistics, targets: InMemoryTargets(bench.targets), scenes: scenes,
                resume: false, smoothFromNaive: true, observer: { recorder.observe($0) })
            if method == .smooth { #expect(recorder.stepFrames.isEmpty, "smooth must reuse naive's frames: \(recorder.stepFrames)") }
        }
        let naive = try bench.results(.naive), smooth = try bench.results(.smooth)
        let expected = LatentSmoothing.smooth(naive.map(\.ws), scenes: SessionRun.localScenes(scenes, first: 0, count: Bench.frames).map(\.clean))
        for i in 0..<Bench.frames { #expect(sameBits(smooth[i].ws, expected[i]), "frame \(i)") }
        // Filtered inside the first scene; the lone frame is its own average (c * w / c, to rounding).
        #expect(!sameBits(smooth[1].ws, naive[1].ws))
        #expect(TensorComparison("lone frame", ours: smooth[3].ws, reference: naive[3].ws).maxAbsDiff <= 1e-6)
        // The final losses are the smoothed latents' (rendered again), saved beside them.
        #expect(smooth.allSatisfy { $0.finalLoss.isFinite } && smooth[1].finalLoss != naive[1].finalLoss)
    }

    @Test("startFrame: the scene holding it is inverted first, then those after it, then those before", arguments: [InversionMethod.naive, .scene, .sequential])
    func startFrameGoesFirst(method: InversionMethod) throws {
        let bench = try Bench()
        var settings = InversionSettings()
        settings.batch = 1
        settings.seed = 3
        var run = SessionRun(method: method, budget: 2, settings: settings, lossName: "default")
        run.measureHeldOut = false
        run.startFrame = 3  // in the second scene, 2..<4
        let recorder = RunRecorder()
        var session = try bench.open()
        _ = try run.run(
            session: &session, generator: bench.generator, statistics: bench.statistics, targets: InMemoryTargets(bench.targets),
            scenes: SceneList(cuts: [SceneCut(frame: 2, fps: 25)], frames: Bench.frames), resume: false,
            observer: { recorder.observe($0) }, onFrame: { recorder.frameSaved($0, $1) })
        #expect(recorder.savedIndices.first == 2 && Set(recorder.savedIndices.prefix(2)) == [2, 3], "\(recorder.savedIndices)")
        #expect(Set(recorder.savedIndices) == [0, 1, 2, 3])
        #expect(try SessionFolder.read(folder: bench.folder).manifest[method]?.complete == true)
    }

    @Test("redo: only the frames in the ranges are recomputed; the others stay bit for bit")
    func redoRanges() throws {
        let bench = try Bench()
        let budget = 2
        var session = try bench.open()
        let all = RunRecorder()
        _ = try bench.run(.naive, session: &session, budget: budget, resume: false, recorder: all)
        let before = try bench.results(.naive)
        #expect(all.savedIndices == [0, 1, 2, 3] && all.stepFrames.count == 4 * budget)

        let again = RunRecorder()
        _ = try bench.run(.naive, session: &session, budget: budget, resume: true, redo: [1..<3], recorder: again)
        let after = try bench.results(.naive)
        #expect(again.savedIndices == [1, 2] && again.stepFrames.count == 2 * budget && Set(again.stepFrames) == [[1], [2]], "\(again.stepFrames)")
        for i in [0, 3] { #expect(Self.sameFrame(after[i], before[i]), "frame \(i) is outside the redo ranges") }
        let record = try SessionFolder.read(folder: bench.folder).manifest[.naive]
        #expect(record?.status == "dddd" && record?.evaluations == 4 * budget)

        // Resuming a complete session optimises nothing.
        let idle = RunRecorder()
        _ = try bench.run(.naive, session: &session, budget: budget, resume: true, recorder: idle)
        let same = try bench.results(.naive)
        #expect(idle.stepFrames.isEmpty && idle.savedIndices.isEmpty)
        for i in 0..<4 { #expect(Self.sameFrame(same[i], after[i])) }
        #expect(bench.leftovers().isEmpty, "\(bench.leftovers())")
    }
}

/// The session folder's manifest: refusals and damaged files, each a one-line error naming session.json.
@Suite("SessionFolder: refusals and damaged manifests")
struct SessionFolderTests {
    typealias Bench = SessionRunTests.Bench

    @Test("Another model, another video or another window is refused; session.json is left as it was")
    func refusesAnotherModelOrVideo() throws {
        let bench = try Bench()
        _ = try bench.open()
        let path = bench.folder + "/session.json"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let cases: [(SessionFolder.Manifest, String)] = [
            (try bench.manifest(model: Fixtures.path("stylegan2/small64/weights.safetensors")), "another model"),
            (try bench.manifest(video: Clips.bbbCuts), "another video"),
            (try bench.manifest(count: 3), "frames 0..<4"),
        ]
        for (manifest, phrase) in cases {
            let message = linstoryFailure { _ = try SessionFolder.open(folder: bench.folder, fresh: manifest) }
            #expect(message?.hasPrefix(path + ": ") == true && message?.contains(phrase) == true, "\(String(describing: message))")
            #expect(message.map { !$0.contains("\n") } == true)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
        // The same model under another path is the same session (files move).
        let moved = bench.folder + "-model.safetensors"
        try FileManager.default.copyItem(atPath: bench.modelPath, toPath: moved)
        defer { try? FileManager.default.removeItem(atPath: moved) }
        #expect(try SessionFolder.open(folder: bench.folder, fresh: try bench.manifest(model: moved)).manifest.count == 4)
    }

    @Test("A damaged or foreign session.json is a one-line error naming it")
    func damagedManifest() throws {
        let bench = try Bench()
        _ = try bench.open()
        let path = bench.folder + "/session.json"
        let good = try String(contentsOfFile: path, encoding: .utf8)
        let damaged = [
            "{ not json",
            String(good.prefix(good.count / 2)),
            "",
            "[1, 2, 3]",
            good.replacingOccurrences(of: "\"version\" : 2", with: "\"version\" : 1"),
        ]
        #expect(damaged[4] != good)
        for text in damaged {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let opens: [() throws -> Void] = [{ _ = try SessionFolder.read(folder: bench.folder) }, { _ = try bench.open() }]
            for open in opens {
                let message = linstoryFailure(open)
                #expect(message?.hasPrefix(path + ": ") == true, "\(String(describing: message)) for \(text.prefix(20))")
                #expect(message.map { !$0.contains("\n") && !$0.contains("not a LinstoryError") } == true, "\(String(describing: message))")
            }
        }
        try FileManager.default.removeItem(atPath: path)
        #expect(linstoryFailure { _ = try SessionFolder.read(folder: bench.folder) }?.contains("session.json missing") == true)
    }
}

/// Damaged session files found by Fuzz/SessionFuzz: each must be a one-line `LinstoryError` naming the
/// file, never a trap in the code that uses what was read.
extension SessionRunTests {
    static let fuzzManifest = #"{"version": 2, "video": {"path": "/v.mp4", "bytes": 1, "hash": "a"}, "model": {"path": "/g.pkl", "bytes": 1, "hash": "b"}, "resolution": 8, "fit": "center-crop", "fps": 25, "videoFrames": 4, "first": FIRST, "count": COUNT, "methods": {}}"#

    @Test("A session.json whose frame window is not a range of frames is refused when read", arguments: [
        ("0", "-1"), ("9223372036854775807", "1"), ("-3", "2"),
    ])
    func badWindowRefused(first: String, count: String) throws {
        let bytes = Array(Self.fuzzManifest.replacingOccurrences(of: "FIRST", with: first).replacingOccurrences(of: "COUNT", with: count).utf8)
        let message = linstoryFailure { _ = try SessionFolder.manifest(data: Data(bytes), path: "/s/session.json") }
        #expect(message == "/s/session.json: not a readable session file (frame window first \(first), count \(count))")
    }

    @Test("Saved latents whose noise does not hold one map per frame of 'w' are refused")
    func latentsNoiseCountRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-session-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let text = Self.fuzzManifest.replacingOccurrences(of: "FIRST", with: "0").replacingOccurrences(of: "COUNT", with: "4")
        let session = try SessionFolder.open(folder: folder, fresh: SessionFolder.manifest(data: Data(text.utf8), path: "m"))
        try FileManager.default.createDirectory(atPath: folder + "/latents", withIntermediateDirectories: true)
        let path = folder + "/latents/naive.safetensors"
        for noise in [Tensor(zeros: [2, 4, 4]), Tensor(zeros: [])] {
            try SafeTensorsWriter.write([("w", Tensor(zeros: [4, 1, 3])), ("noise/n0", noise)], metadata: [:], to: path)
            let message = linstoryFailure { _ = try session.readLatents(method: .naive, noiseNames: ["n0"]) }
            #expect(message == "\(path): tensor 'noise/n0' has shape \(noise.shape), expected [4, R, R] like 'w'")
        }
    }
}

/// Where sequential starts afresh: each scene's first clean frame, in window numbering, or its first
/// frame when it has only transition frames (a scene never continues from another, so that scenes
/// can go to different workers). The bench and the session share the rule.
extension SessionRunTests {
    @Test func sequentialStartsAtEachScenesFirstCleanFrame() {
        var scenes = SceneList(cuts: [SceneCut(frame: 4, fps: 25), SceneCut(frame: 7, fps: 25)], frames: 12)
        #expect(SessionRun.sequentialStartFrames(scenes, first: 0, count: 12) == [0, 4, 7])
        scenes.scenes[1].clean = 4..<4  // all transition
        scenes.scenes[2].clean = 8..<12  // its first frame is a transition frame
        #expect(SessionRun.sequentialStartFrames(scenes, first: 0, count: 12) == [0, 4, 8])
        // A window from frame 2: numbering moves with it.
        #expect(SessionRun.sequentialStartFrames(scenes, first: 2, count: 10) == [0, 2, 6])
    }
}

/// Tuned scenes are files named by their frames: listed without opening them, mapped to window
/// frames, and removed when frames they cover are inverted again.
@Suite("Tuned scenes in a session folder")
struct TunedSceneFilesTests {
    @Test func listedMappedAndRemovedWithTheirFrames() throws {
        let folder = try TemporaryFolder("linstory-tuned-files")
        let manifest = SessionFolder.Manifest(
            video: try FileIdentity(path: Fixtures.path("stylegan2/tiny32/weights.safetensors")),
            model: try FileIdentity(path: Fixtures.path("stylegan2/tiny32/weights.safetensors")), resolution: 32,
            fit: "center-crop", fps: 25, videoFrames: 100, first: 10, count: 20)
        let session = try SessionFolder.open(folder: folder.path + "/s", fresh: manifest)
        try FileManager.default.createDirectory(atPath: session.tunedFolder(method: .scene), withIntermediateDirectories: true)
        for frames in [10...13, 14...21, 24...29] {
            FileManager.default.createFile(atPath: session.tunedScenePath(method: .scene, frames: frames), contents: Data())
        }
        FileManager.default.createFile(atPath: session.tunedFolder(method: .scene) + "/notes.txt", contents: Data())
        #expect(session.tunedScenes(method: .scene).map(\.frames) == [10...13, 14...21, 24...29])
        let generators = SceneGenerators(base: try Fixtures.generator("tiny32"), session: session, method: .scene)
        // Window numbering: video frame 10 is window frame 0.
        #expect(generators.tunedRanges == [0..<4, 4..<12, 14..<20])
        #expect(generators.tunedScene(containing: 12) == nil && generators.tunedScene(containing: 4) == 4..<12)
        // Frame 12 is in no tuned scene: the model renders it, with no file read.
        #expect(try generators.generator(forFrame: 12).synthesis.blocks.count > 0)
        // An empty file is not a tuned scene: asking for its frames names the file.
        #expect(throws: LinstoryError.self) { try generators.generator(forFrame: 0) }
        // Window frames 11-12 are video frames 21-22: only the scene 14...21 holds one.
        session.removeTunedScenes(method: .scene, overlapping: 11..<13)
        #expect(session.tunedScenes(method: .scene).map(\.frames) == [10...13, 24...29])
        session.removeTunedScenes(method: .scene)
        #expect(session.tunedScenes(method: .scene).isEmpty)
    }
}

/// The scene method's pieces read back from the session: each saved frame's segment, or the
/// finished run's one header.
@Suite("Piece starts in a session folder")
struct PieceStartsTests {
    @Test func fromFrameHeaders() throws {
        let folder = try TemporaryFolder("linstory-pieces")
        let fixture = Fixtures.path("stylegan2/tiny32/weights.safetensors")
        let manifest = SessionFolder.Manifest(
            video: try FileIdentity(path: fixture), model: try FileIdentity(path: fixture), resolution: 32, fit: "center-crop", fps: 25,
            videoFrames: 100, first: 50, count: 12)
        let session = try SessionFolder.open(folder: folder.path + "/s", fresh: manifest)
        let g = try Fixtures.generator("tiny32")
        let ws = Tensor(zeros: [g.config.numWs, g.config.wDim])
        // Video frames 50-55 on one piece... 56-58 and 59-61 on two more.
        for i in 0..<12 {
            var f = FrameInversion(ws: ws, noise: nil, lossHistory: [1], finalLoss: 1, evaluations: 1)
            f.segment = i < 6 ? 50...55 : i < 9 ? 56...58 : 59...61
            try session.writeFrame(f, index: i, method: .scene, noiseNames: g.synthesis.noiseLayerNames)
        }
        #expect(session.pieceStarts(method: .scene, count: 12) == [0, 6, 9])
        #expect(session.pieceStarts(method: .scene, count: 12, within: [7, 8]) == [6])
        #expect(session.pieceStarts(method: .naive, count: 12).isEmpty)
    }
}
