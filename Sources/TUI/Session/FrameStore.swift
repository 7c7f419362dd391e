import Engine
import Foundation

/// The UI's copy of one method's finished frames: each frame's result as the session holds it, its
/// rendered reconstruction, and the render asked for and not back yet, kept together in one entry
/// so that they are forgotten together.
///
/// One invalidation rule: an entry is dropped when its frame is saved again (`frameChanged`), and
/// every entry when the method changes or a run completes (`reset`), since completing can replace
/// every frame at once (smooth's filtered latents). Everything else is read on demand from the
/// session folder, so nothing is invalidated by hand anywhere else.
final class FrameStore {
    private struct Entry {
        var result: FrameInversion?
        var image: RGBImage?
        /// The id of the render asked for this frame (a result for another id is stale).
        var renderID: Int?
    }

    private(set) var method: InversionMethod
    private var session: SessionFolder
    private let noiseNames: [String]
    private var entries: [Int: Entry] = [:]
    /// The assembled latents where they are the results (`SessionFolder.resultsApartFromFrames`).
    private var finished: SessionLatents?
    private var nextRenderID = 0

    init(session: SessionFolder, method: InversionMethod, noiseNames: [String]) {
        self.session = session
        self.method = method
        self.noiseNames = noiseNames
        finished = Self.resultsApartFromFrames(session, method, noiseNames)
    }

    /// Forgets everything: another method, or a run that completed (`session` read again).
    func reset(method: InversionMethod, session: SessionFolder) {
        self.method = method
        self.session = session
        entries = [:]
        finished = Self.resultsApartFromFrames(session, method, noiseNames)
    }

    /// The frame was saved again (or is being redone): its result and image are stale.
    func frameChanged(_ i: Int) {
        entries[i] = nil
        finished = nil
    }

    /// The frame's result, or nil when it is not inverted (yet).
    func result(_ i: Int) -> FrameInversion? {
        if let r = entries[i]?.result { return r }
        let r: FrameInversion?
        if let finished {
            r = try? finished.frame(i)
        } else {
            // The file, not the manifest: a running job saves frames the manifest read here has not seen.
            r = session.readFrame(index: i, method: method, noiseNames: noiseNames)
        }
        if let r {
            entries[i, default: Entry()].result = r
            forgetFarFrom(i)
        }
        return r
    }

    /// Every frame's final loss (NaN where there is none), read without keeping any frame: from the
    /// finished run's latents, or from each saved frame's file (its loss, not its tensors).
    func finalLosses(count: Int, done: (Int) -> Bool) -> [Double] {
        if let finished, let losses = try? finished.finalLosses(), losses.count == count { return losses.map(Double.init) }
        return (0..<count).map { i in
            guard done(i), let loss = try? session.frameHeader(index: i, method: method)?.row("loss", 0) else { return .nan }
            return Double(loss.scalars[0])
        }
    }

    func image(_ i: Int) -> RGBImage? { entries[i]?.image }

    /// An id for a render of frame `i`, unless one is already asked for (then nil).
    func startRender(_ i: Int) -> Int? {
        guard entries[i]?.renderID == nil, entries[i]?.image == nil else { return nil }
        nextRenderID += 1
        entries[i, default: Entry()].renderID = nextRenderID
        return nextRenderID
    }

    /// Keeps a finished render if it is the one last asked for this frame; false when it is stale.
    @discardableResult
    func finishRender(_ i: Int, id: Int, image: RGBImage) -> Bool {
        guard entries[i]?.renderID == id else { return false }
        entries[i]?.renderID = nil
        entries[i]?.image = image
        return true
    }

    /// At most `capacity` frames are kept (a scrub across a film visits thousands): past it, the
    /// entries farthest from the frame just read go, except renders still awaited.
    private func forgetFarFrom(_ i: Int) {
        guard entries.count > Self.capacity else { return }
        let far = entries.filter { $0.value.renderID == nil }.keys.sorted { abs($0 - i) > abs($1 - i) }
        for k in far.prefix(entries.count - Self.capacity * 3 / 4) { entries[k] = nil }
    }

    static let capacity = 512

    private static func resultsApartFromFrames(_ session: SessionFolder, _ method: InversionMethod, _ noiseNames: [String]) -> SessionLatents? {
        session.resultsApartFromFrames(method: method, noiseNames: noiseNames)
    }
}
