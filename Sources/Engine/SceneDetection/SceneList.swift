/// A video divided into scenes at its cuts: every frame belongs to exactly one scene, and frames
/// inside a dissolve or fade are marked, since neither shot alone explains them.
public struct SceneList: Sendable, Equatable {
    public struct Scene: Sendable, Equatable {
        /// Position in the list, from 0.
        public var index: Int
        /// The scene's frames: from its cut (or 0) to the next cut (or the end).
        public var frames: Range<Int>
        /// `frames` without the frames of a gradual transition into or out of the scene: the frames
        /// that show this shot alone. Empty when transitions cover the whole scene.
        public var clean: Range<Int>
        /// The boundary that starts the scene (nil for the first).
        public var entry: SceneCut?
        /// The boundary that ends it (nil for the last).
        public var exit: SceneCut?
    }

    public var frames: Int
    public var scenes: [Scene]

    /// `cuts` in frame order, each inside the video.
    public init(cuts: [SceneCut], frames: Int) {
        self.frames = frames
        let inside = cuts.filter { $0.frame > 0 && $0.frame < frames }.sorted { $0.frame < $1.frame }
        var scenes: [Scene] = []
        var start = 0
        for i in 0...inside.count {
            let entry = i > 0 ? inside[i - 1] : nil
            let exit = i < inside.count ? inside[i] : nil
            let end = exit?.frame ?? frames
            guard end > start || (frames == 0 && i == 0) else { continue }
            // A gradual transition's frames are mixed from its first to its last, on both sides of the cut.
            var lo = start, hi = end
            if let e = entry, e.kind != .cut { lo = max(lo, e.span.upperBound + 1) }
            if let x = exit, x.kind != .cut { hi = min(hi, x.span.lowerBound) }
            let clean = lo < hi ? lo..<hi : lo..<lo
            scenes.append(Scene(index: scenes.count, frames: start..<end, clean: clean, entry: entry, exit: exit))
            start = end
        }
        self.scenes = scenes
    }

    /// The scene frame `frame` belongs to.
    public func scene(containing frame: Int) -> Scene? {
        var lo = 0, hi = scenes.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            if scenes[mid].frames.upperBound <= frame { lo = mid + 1 } else if scenes[mid].frames.lowerBound > frame { hi = mid - 1 } else { return scenes[mid] }
        }
        return nil
    }

    /// Whether `frame` is part of a dissolve or fade.
    public func isInTransition(_ frame: Int) -> Bool {
        guard let scene = scene(containing: frame) else { return false }
        return !scene.clean.contains(frame)
    }
}
