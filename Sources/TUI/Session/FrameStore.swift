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
    /// smooth's results exist only as a whole (its frame files hold naive's latents): read once.
    private var finished: [FrameInversion]?
    private var nextRenderID = 0

    init(session: SessionFolder, method: InversionMethod, noiseNames: [String]) {
        self.session = session
        self.method = method
        self.noiseNames = noiseNames
        finished = Self.wholeResults(session, method, noiseNames)
    }

    /// Forgets everything: another method, or a run that completed (`session` read again).
    func reset(method: InversionMethod, session: SessionFolder) {
        self.method = method
        self.session = session
        entries = [:]
        finished = Self.wholeResults(session, method, noiseNames)
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
        if let all = finished {
            r = all.indices.contains(i) ? all[i] : nil
        } else {
            // The file, not the manifest: a running job saves frames the manifest read here has not seen.
            r = session.readFrame(index: i, method: method, noiseNames: noiseNames)
        }
        if let r { entries[i, default: Entry()].result = r }
        return r
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

    private static func wholeResults(_ session: SessionFolder, _ method: InversionMethod, _ noiseNames: [String]) -> [FrameInversion]? {
        method == .smooth ? session.finishedResults(method: method, noiseNames: noiseNames) : nil
    }
}
