import Engine
import Foundation

/// What the UI needs before inversion can start, prepared on a thread of its own so the screen
/// appears at once: the model's W statistics and the scene detector's pass over the video, whose
/// difference curve the timeline shows as it grows.
public final class BackgroundStart: @unchecked Sendable {
    public struct Snapshot: Revisioned {
        public var curve: [Double] = []
        public var framesSeen = 0
        /// Set when detection has finished.
        public var cuts: [SceneCut]?
        public var statistics: WStatistics?
        public var error: String?
        public var revision = 0
    }

    private let published = PublishedSnapshot(Snapshot())

    public var snapshot: Snapshot { published.snapshot }

    /// The snapshot's revision alone (cheap: no copy of the curve).
    public var revision: Int { published.revision }

    public func update(_ change: (inout Snapshot) -> Void) { published.update(change) }

    private let work: @Sendable (BackgroundStart) throws -> Void

    /// `work` runs on a thread of its own once `start` is called, publishing through `update`; an
    /// error it throws lands in the snapshot. Tests give a stand-in.
    public init(work: @escaping @Sendable (BackgroundStart) throws -> Void) {
        self.work = work
    }

    /// The real work: statistics first (inversion needs them), then detection, unless the session
    /// already holds its curve and cuts (then nothing is decoded: they are published as they are).
    static func statisticsAndDetection(
        video: String, mapping: MappingNetwork, statisticsCache: String, savedCurve: [Float]? = nil, savedCuts: [SceneCut]? = nil
    ) -> BackgroundStart {
        BackgroundStart { start in
            let stats = try WStatistics.load(orComputeFor: mapping, cachePath: statisticsCache)
            start.update { $0.statistics = stats }
            if let savedCurve, let savedCuts {
                let curve = savedCurve.map(Double.init)
                start.update {
                    $0.curve = curve
                    $0.framesSeen = curve.count
                    $0.cuts = savedCuts
                }
            } else {
                try start.detect(video: video)
            }
        }
    }

    public func start() {
        let thread = Thread { [self] in
            do {
                try work(self)
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
