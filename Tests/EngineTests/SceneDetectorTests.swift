import Engine
import Foundation
import Testing
import TestSupport

/// Scene detection on the sample clips against their ground truth, and on synthetic clips that
/// stress what the samples do not: flashes, fast pans, slow fades, dissolves between moving shots.
@Suite("scene detection")
struct SceneDetectorTests {
    /// Frames of the sample clips as the detector gets them from `linstory detect`.
    static func analysisFrames(_ path: String) throws -> (frames: [RGBImage], fps: Double) {
        let source = try VideoInput.open(path, scaling: .width(SceneDetector.Options().analysisWidth))
        var frames: [RGBImage] = []
        while let f = try source.next() { frames.append(f) }
        return (frames, source.info.fps)
    }

    @Test func bbbCutsMatchesItsTruth() throws {
        let (frames, fps) = try Self.analysisFrames(Clips.bbbCuts)
        let truth = try Clips.truth("bbb-cuts")
        #expect(frames.count == truth.frames)
        let detector = Clips.detect(frames, fps: fps)
        let score = Clips.score(detector.cuts, against: truth)
        #expect(score.f1 == 1, "\(score)\n\(detector.cuts)")
        #expect(detector.curve.count == truth.frames)
        // Kinds and spans, not just positions.
        let byFrame = Dictionary(uniqueKeysWithValues: detector.cuts.map { ($0.frame, $0) })
        for h in truth.hardCuts { #expect(byFrame[h]?.kind == .cut && byFrame[h]?.span == h...h, "cut \(h): \(String(describing: byFrame[h]))") }
        let dissolve = detector.cuts.first { truth.gradual[0].window.contains($0.frame) }
        #expect(dissolve?.kind == .dissolve && dissolve?.span == 72...81, "\(String(describing: dissolve))")
        let fade = detector.cuts.first { truth.gradual[1].window.contains($0.frame) }
        #expect(fade?.kind == .fade && fade?.span == 146...165, "\(String(describing: fade))")
    }

    @Test func bbbShotHasNoCuts() throws {
        let (frames, fps) = try Self.analysisFrames(Clips.bbbShot)
        let detector = Clips.detect(frames, fps: fps)
        #expect(frames.count == 132)
        #expect(detector.cuts.isEmpty, "\(detector.cuts)")
    }

    // MARK: - Synthetic clips, 320x180, built from frames of the sample clips

    /// Stills from different shots of bbb-cuts (640x360) and the continuous shot (320x180).
    static let material: (stills: [Int: RGBImage], shot: [RGBImage]) = {
        let cuts = try! Clips.frames(Clips.bbbCuts)
        let stills = Dictionary(uniqueKeysWithValues: [0, 30, 60, 90, 126, 170, 190].map { ($0, cuts[$0]) })
        let shot = try! Clips.frames(Clips.bbbShot, scaling: .size(width: 320, height: 180))
        return (stills, shot)
    }()

    static func still(_ i: Int) -> RGBImage { AreaResampler.resize(material.stills[i]!, width: 320, height: 180) }

    @Test func flashesAreNotCuts() {
        var frames = Array(Self.material.shot[0..<110])
        frames[20] = SyntheticClip.solid(255, like: frames[20])               // one white frame
        frames[40] = SyntheticClip.flash(frames[40], amount: 0.6)             // a two-frame camera flash
        frames[41] = SyntheticClip.flash(frames[41], amount: 0.6)
        frames[60] = SyntheticClip.solid(0, like: frames[60])                 // a dropped (black) frame
        for (i, a) in [0.9, 0.7, 0.45, 0.25, 0.1].enumerated() {              // a flash that decays
            frames[80 + i] = SyntheticClip.flash(frames[80 + i], amount: a)
        }
        frames[100] = SyntheticClip.mix(frames[100], Self.still(190), 0.8)   // a glitch frame from elsewhere
        let detector = Clips.detect(frames)
        #expect(detector.cuts.isEmpty, "\(detector.cuts)")
    }

    @Test(arguments: [8.0, 16, 32, 48])
    func fastPansAreNotCuts(speed: Double) {
        let frames = SyntheticClip.pan(over: Self.material.stills[0]!, count: 90, velocity: (speed, speed * 0.3))
        let detector = Clips.detect(frames)
        #expect(detector.cuts.isEmpty, "\(speed) px/frame: \(detector.cuts)")
    }

    @Test func aCutInsideAFastPanIsFound() {
        let a = SyntheticClip.pan(over: Self.material.stills[0]!, count: 40, velocity: (24, 4))
        let b = SyntheticClip.pan(over: Self.material.stills[126]!, count: 40, velocity: (24, 0))
        let detector = Clips.detect(a + b)
        #expect(detector.cuts.map(\.frame) == [40], "\(detector.cuts)")
        #expect(detector.cuts.first?.kind == .cut)
    }

    @Test func slowFadeFromWhite() {
        // Shot A, a cut to white, then two seconds of fade in from white to shot B.
        let a = Array(Self.material.shot[0..<30])
        let b = SyntheticClip.pan(over: Self.material.stills[190]!, count: 80, velocity: (2, 1))
        let white = Array(repeating: SyntheticClip.solid(255, like: a[0]), count: 10)
        let frames = a + white + SyntheticClip.fadeIn(Array(b[0..<50]), from: 255) + Array(b[50...])
        let detector = Clips.detect(frames)
        #expect(detector.cuts.count == 1, "\(detector.cuts)")
        if let c = detector.cuts.first {
            #expect(c.kind == .fade)
            #expect((30...89).contains(c.frame))
            #expect(c.span.lowerBound == 30 && abs(c.span.upperBound - 89) <= 2, "\(c)")  // from the cut to white to the end of the fade in
        }
    }

    @Test func fadeInAtTheStartAndOutAtTheEndAreNotCuts() {
        let shot = Array(Self.material.shot[0..<100])
        let frames = Array(repeating: SyntheticClip.solid(0, like: shot[0]), count: 5)
            + SyntheticClip.fadeIn(Array(shot[0..<25]), from: 0) + Array(shot[25..<75])
            + SyntheticClip.fadeOut(Array(shot[75..<100]), to: 255) + Array(repeating: SyntheticClip.solid(255, like: shot[0]), count: 5)
        let detector = Clips.detect(frames)
        #expect(detector.cuts.isEmpty, "\(detector.cuts)")
    }

    @Test func dissolveBetweenTwoPanningShots() {
        let a = SyntheticClip.pan(over: Self.material.stills[0]!, count: 70, velocity: (10, 2))
        let b = SyntheticClip.pan(over: Self.material.stills[190]!, count: 70, from: (600, 300), velocity: (-10, -2))
        let frames = Array(a[0..<30]) + SyntheticClip.dissolve(Array(a[30..<50]), Array(b[0..<20]), count: 20) + Array(b[20..<60])
        let detector = Clips.detect(frames)
        #expect(detector.cuts.count == 1, "\(detector.cuts)")
        if let c = detector.cuts.first {
            #expect(c.kind == .dissolve)
            #expect((29...50).contains(c.frame))
            #expect(abs(c.span.lowerBound - 30) <= 2 && abs(c.span.upperBound - 49) <= 2, "\(c) \(detector.cuts)")
        }
    }

    @Test(arguments: [3, 8, 40])
    func dissolvesOfAnyLength(length: Int) {
        let a = Array(repeating: Self.still(60), count: 30 + length)
        let b = Array(repeating: Self.still(170), count: 30 + length)
        let frames = Array(a[0..<30]) + SyntheticClip.dissolve(Array(a[30...]), b, count: length) + Array(b[length...])
        let detector = Clips.detect(frames)
        #expect(detector.cuts.count == 1, "\(length) frames: \(detector.cuts)")
        if let c = detector.cuts.first {
            #expect(c.kind == .dissolve, "\(c)")
            #expect(c.span == 30...(29 + length), "\(c)")
        }
    }

    @Test func fadeToBlackThenCutIn() {
        let a = SyntheticClip.pan(over: Self.material.stills[90]!, count: 40, velocity: (4, 0))
        let black = Array(repeating: SyntheticClip.solid(0, like: a[0]), count: 8)
        let frames = Array(a[0..<25]) + SyntheticClip.fadeOut(Array(a[25..<40]), to: 0) + black + Array(Self.material.shot[0..<40])
        let detector = Clips.detect(frames)
        #expect(detector.cuts.count == 1, "\(detector.cuts)")
        if let c = detector.cuts.first {
            #expect(c.kind == .fade, "\(c)")
            #expect(c.span == 25...48, "\(c)")
        }
    }

    @Test func minimumSceneLengthKeepsTheStrongerCut() {
        let frames = Array(repeating: Self.still(0), count: 30) + Array(repeating: Self.still(60), count: 5)
            + Array(repeating: Self.still(190), count: 30)
        let merged = Clips.detect(frames, options: .init(minSceneLength: .frames(15)))
        #expect(merged.cuts.count == 1, "\(merged.cuts)")
        let both = Clips.detect(frames, options: .init(minSceneLength: .frames(3)))
        #expect(both.cuts.map(\.frame) == [30, 35], "\(both.cuts)")
    }

    @Test func cutsArriveWhileFeedingAndTheCurveGrows() {
        let frames = Array(repeating: Self.still(0), count: 40) + Array(repeating: Self.still(190), count: 200)
        var detector = SceneDetector(fps: 25)
        var seenAt: Int?
        for (i, f) in frames.enumerated() {
            if !detector.feed(f).isEmpty && seenAt == nil { seenAt = i }
            #expect(detector.curve.count == i + 1)
        }
        _ = detector.finish()
        #expect(detector.cuts.map(\.frame) == [40])
        // Settled before the end of the video, within a few seconds of the cut.
        #expect(seenAt.map { $0 < 40 + 6 * 25 } ?? false, "first reported at \(String(describing: seenAt))")
        #expect(detector.curve[40] > 30 && detector.curve[39] < 1)
    }

    /// `frame` with its brightness scaled (a light dimmed or switched on).
    static func exposed(_ frame: RGBImage, _ gain: Double) -> RGBImage {
        RGBImage(width: frame.width, height: frame.height, pixels: frame.pixels.map { UInt8(min(Double($0) * gain, 255).rounded()) })
    }

    @Test func lightingChangesAreNotCuts() {
        let shot = Array(Self.material.shot[0..<120])
        var frames: [RGBImage] = []
        for (i, f) in shot.enumerated() {
            // Dims to 45% over 20 frames, holds, then a light switches on at frame 80 (x1.5).
            let gain = i < 20 ? 1 : i < 40 ? 1 - 0.55 * Double(i - 19) / 20 : i < 80 ? 0.45 : 0.45 * 1.5
            frames.append(Self.exposed(f, gain))
        }
        let detector = Clips.detect(frames)
        #expect(detector.cuts.isEmpty, "\(detector.cuts)")
    }

    @Test func fastZoomIsNotACut() {
        let still = Self.material.stills[30]!
        let frames = (0..<60).map { i -> RGBImage in
            let scale = 1 + Double(i) / 40  // to 2.5x in 60 frames
            let w = Int(640 / scale) / 2 * 2, h = Int(360 / scale) / 2 * 2
            return AreaResampler.resize(still.cropped(x: (640 - w) / 2, y: (360 - h) / 2, width: w, height: h), width: 320, height: 180)
        }
        let detector = Clips.detect(frames)
        #expect(detector.cuts.isEmpty, "\(detector.cuts)")
    }
}
