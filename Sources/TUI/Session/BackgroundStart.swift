import Engine
import Foundation

/// What the UI needs before inversion can start, prepared on a thread of its own so the screen
/// appears at once: the model's W statistics and the scene detector's pass over the video, whose
/// difference curve the timeline shows as it grows.
final class BackgroundStart: @unchecked Sendable {
    struct Snapshot {
        var curve: [Double] = []
        var framesSeen = 0
        /// Set when detection has finished.
        var cuts: [SceneCut]?
        var statistics: WStatistics?
        var error: String?
        var revision = 0
    }

    private let lock = NSLock()
    private var current = Snapshot()

    var snapshot: Snapshot {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    /// The snapshot's revision alone (cheap: no copy of the curve).
    var revision: Int {
        lock.lock()
        defer { lock.unlock() }
        return current.revision
    }

    private func update(_ change: (inout Snapshot) -> Void) {
        lock.lock()
        change(&current)
        current.revision += 1
        lock.unlock()
    }

    /// Starts the work: statistics first (inversion needs them), then detection.
    func start(video: String, mapping: MappingNetwork, statisticsCache: String) {
        let thread = Thread { [self] in
            do {
                let stats = try WStatistics.load(orComputeFor: mapping, cachePath: statisticsCache)
                update { $0.statistics = stats }
                try detect(video: video)
            } catch {
                let message = (error as? LinstoryError)?.description ?? "\(error)"
                update { $0.error = message }
            }
        }
        thread.name = "linstory start"
        thread.start()
    }

    private func detect(video: String) throws {
        // Publish in small steps: enough to watch the curve grow without locking per frame.
        let result = try SceneDetector.detect(video: video, progressInterval: 8) { detector, _ in
            let curve = detector.curve.map(Double.init)
            self.update { $0.curve = curve; $0.framesSeen = curve.count }
        }
        let curve = result.curve.map(Double.init)
        let cuts = result.cuts.cuts
        update {
            $0.curve = curve
            $0.framesSeen = curve.count
            $0.cuts = cuts
        }
    }
}
