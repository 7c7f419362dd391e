import Engine
import Foundation
import Testing
import TestSupport

/// Scene detection on clips edited at test time from the sample footage (`EditedClip`), the kind
/// of edit a real film has: moving shots joined by hard cuts, cross-dissolves of 8, 12 and 24
/// frames, fades through black and through white, with a one-frame flash and a fast pan inside
/// shots. Every transition must be found, and nothing else: F1 1 against the truth of the edit.
@Suite("transition clips")
final class TransitionClipTests {
    /// This test's scratch folder for the edited video, removed when the test ends.
    let scratch: TemporaryFolder
    init() throws { scratch = try TemporaryFolder("linstory-edited") }

    typealias Shot = EditedClip.Shot
    typealias Motion = EditedClip.Motion

    // Shots: windows moving over different parts of the footage, each with a look of its own, so
    // that every shot differs from the next as different shots of a film do. Positions and motion
    // are in pixels of the 640x360 footage; the clips are 320x180.

    /// The burrow on the left, drifting right and up.
    static func burrow(from: Int, count: Int, flash: Int? = nil) -> Shot {
        Shot(.shot, from: from, count: count, window: 320, origin: Motion(10, 110), motion: Motion(4, -1.5), flash: flash)
    }

    /// The tree and sky at the top right, mirrored, drifting left and down.
    static func sky(from: Int, count: Int, flash: Int? = nil) -> Shot {
        Shot(.shot, from: from, count: count, window: 288, origin: Motion(352, 0), motion: Motion(-3.5, 1), look: "hflip", flash: flash)
    }

    /// The grass at the bottom right, warm, zoomed out, panning left.
    static func grass(from: Int, count: Int, flash: Int? = nil) -> Shot {
        Shot(.shot, from: from, count: count, window: 400, origin: Motion(240, 136), motion: Motion(-4, -1),
             look: "colorchannelmixer=rr=1.1:gg=0.95:bb=0.75", flash: flash)
    }

    /// A slow drift across the middle that whips right and down for ten frames.
    static func whip(from: Int, count: Int) -> Shot {
        Shot(.shot, from: from, count: count, window: 320, origin: Motion(0, 50), motion: Motion(1, 0),
             look: "colorchannelmixer=.5:.4:.1:0:.2:.7:.1:0:.2:.4:.4",
             fastPan: EditedClip.FastPan(first: 14, count: 10, velocity: Motion(24, 6)))
    }

    /// bbb-cuts' third shot (a bright top-right crop) zoomed out, drifting down-right.
    static func bright(count: Int) -> Shot {
        Shot(.cuts, from: 44, count: count, window: 480, origin: Motion(0, 0), motion: Motion(5, 3))
    }

    static let clips: [EditedClip] = [
        // The clip: two moving shots joined by a 12-frame dissolve; hard cuts, a fade
        // through white, a one-frame flash and a fast pan elsewhere.
        EditedClip("dissolve-12", shots: [burrow(from: 0, count: 40), sky(from: 40, count: 50, flash: 20),
                                          grass(from: 70, count: 55), whip(from: 20, count: 44), bright(count: 28)],
                   joins: [.cut, .dissolve(frames: 12), .fade(level: 255, out: 8, hold: 3, in: 8), .cut]),
        EditedClip("dissolve-8", shots: [grass(from: 0, count: 45), burrow(from: 60, count: 50, flash: 30),
                                         whip(from: 10, count: 44), sky(from: 70, count: 50)],
                   joins: [.dissolve(frames: 8), .cut, .fade(level: 0, out: 10, hold: 4, in: 10)]),
        EditedClip("dissolve-24", shots: [sky(from: 0, count: 55), grass(from: 50, count: 58),
                                          bright(count: 28), burrow(from: 80, count: 45, flash: 25)],
                   joins: [.dissolve(frames: 24), .fade(level: 0, out: 6, hold: 2, in: 6), .cut]),
    ]

    /// What `linstory detect` finds in the video at `path`: the engine's one detection call.
    static func detect(_ path: String) throws -> (cuts: [SceneCut], frames: Int) {
        let result = try SceneDetector.detect(video: path)
        return (result.cuts.cuts, result.cuts.frames)
    }

    @Test(arguments: clips.map(\.name))
    func everyTransitionAndNothingElse(_ name: String) throws {
        let clip = Self.clips.first { $0.name == name }!
        let path = scratch.path + "/\(name).mp4"
        try clip.write(to: path)
        let (cuts, frames) = try Self.detect(path)
        #expect(frames == clip.frames)
        let score = Clips.score(cuts, against: clip.truth)
        #expect(score.f1 == 1, "\(name): \(score)\n\(cuts)")
        // The flash and the fast pan in particular: no cut anywhere near them.
        for f in clip.flashes {
            #expect(!cuts.contains { abs($0.frame - f) <= 6 }, "\(name): a cut at the flash (frame \(f)): \(cuts)")
        }
        for pan in clip.fastPans {
            #expect(!cuts.contains { (pan.lowerBound - 2...pan.upperBound + 2).contains($0.frame) }, "\(name): a cut in the fast pan \(pan): \(cuts)")
        }
        // And each found as what it is.
        for h in clip.truth.hardCuts {
            #expect(cuts.first { abs($0.frame - h) <= 1 }?.kind == .cut, "\(name): cut \(h): \(cuts)")
        }
        for g in clip.truth.gradual {
            let kind: TransitionKind = g.kind == "cross-dissolve" ? .dissolve : .fade
            #expect(cuts.first { g.window.contains($0.frame) }?.kind == kind, "\(name): \(g.kind) \(g.window): \(cuts)")
        }
    }
}
