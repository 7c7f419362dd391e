import Foundation

/// The generator that renders each frame of a session's method: its scene's tuned generator where
/// the scene was tuned (`SessionFolder.tunedScenes`), the model everywhere else. Everything that
/// renders a session's frames asks here (the UI's previews and scrubber, `interpolate`, `export`,
/// the tuned metrics), so a tuned scene looks the same everywhere. The folder is listed once
/// (`reload` after tuning); a scene's deltas are read and applied when first asked for, and the
/// last few generators are kept. Safe to share between threads.
public final class SceneGenerators: @unchecked Sendable {
    public let base: Generator
    private let lock = NSLock()
    /// Tuned scenes in window numbering (clean frames), with their files.
    private var scenes: [(frames: Range<Int>, path: String)] = []
    private var cache: [(path: String, generator: Generator)] = []
    /// Generators kept: one is the scene being looked at; a few let a scrubber cross a cut cheaply.
    private let keep = 3

    public init(base: Generator, session: SessionFolder, method: InversionMethod) {
        self.base = base
        reload(session: session, method: method)
    }

    /// Lists the session's tuned scenes of `method` again (after tuning, or another method chosen).
    public func reload(session: SessionFolder, method: InversionMethod) {
        let first = session.manifest.first
        let found = session.tunedScenes(method: method).map { ((($0.frames.lowerBound - first)..<($0.frames.upperBound + 1 - first)), $0.path) }
        lock.lock()
        scenes = found
        cache.removeAll { c in !found.contains { $0.1 == c.path } }
        lock.unlock()
    }

    /// Window frames that a tuned scene covers, each scene's range.
    public var tunedRanges: [Range<Int>] {
        lock.lock()
        defer { lock.unlock() }
        return scenes.map(\.frames)
    }

    /// The tuned scene covering window frame `i` (its clean frames), or nil.
    public func tunedScene(containing i: Int) -> Range<Int>? {
        lock.lock()
        defer { lock.unlock() }
        return scenes.first { $0.frames.contains(i) }?.frames
    }

    /// The generator for window frame `i`: its tuned scene's, else the model. Throws, naming the
    /// file, when a tuned scene cannot be read or was tuned from another model.
    public func generator(forFrame i: Int) throws -> Generator {
        lock.lock()
        guard let path = scenes.first(where: { $0.frames.contains(i) })?.path else {
            lock.unlock()
            return base
        }
        if let k = cache.firstIndex(where: { $0.path == path }) {
            let g = cache[k].generator
            lock.unlock()
            return g
        }
        lock.unlock()
        // Applied outside the lock: another thread asking for another scene does not wait on it.
        let g = try TunedScene(path: path).apply(to: base)
        lock.lock()
        if !cache.contains(where: { $0.path == path }) {
            cache.append((path, g))
            if cache.count > keep { cache.removeFirst() }
        }
        lock.unlock()
        return g
    }

    /// The generator for a path between window frames `a` and `b`: their scene's tuned generator
    /// when one tuned scene holds both, else the model (a tuned scene's weights are for its frames).
    public func generator(between a: Int, and b: Int) throws -> Generator {
        guard let scene = tunedScene(containing: a), scene.contains(b) else { return base }
        return try generator(forFrame: a)
    }
}
