import Engine
import Foundation

/// A session that is not ready yet, prepared on a thread of its own while the UI is already on
/// screen: the one decode of the video (detection, and the frame store filled in the same pass),
/// then the session folder. The UI shows the pass as it goes (frames, rate, ETA, the difference
/// curve) and swaps in the real engine when `prepared` arrives.
final class SessionOpening: @unchecked Sendable {
    struct Snapshot: Revisioned {
        var framesSeen = 0
        var totalFrames: Int?
        var curve: [Double] = []
        var prepared: SessionPreparation?
        var error: String?
        var revision = 0
    }

    private let published = PublishedSnapshot(Snapshot())
    private let started = Date()

    var snapshot: Snapshot { published.snapshot }
    var revision: Int { published.revision }

    private func update(_ change: (inout Snapshot) -> Void) { published.update(change) }

    /// Starts the pass: `prepare` with detection now, publishing the detector's progress.
    func start(video: String, model: String, folder: String, resolution: Int) {
        let thread = Thread { [self] in
            do {
                let prepared = try SessionPreparation.prepare(
                    video: video, model: model, folder: folder, resolution: resolution, detection: .now,
                    decodeProgress: { seen, total in self.update { $0.framesSeen = seen; $0.totalFrames = total } },
                    detector: { d in
                        let curve = d.curve.map(Double.init)
                        self.update { $0.curve = curve }
                    })
                update { $0.prepared = prepared }
            } catch {
                let message = (error as? LinstoryError)?.description ?? "\(error)"
                update { $0.error = message }
            }
        }
        thread.name = "linstory opening"
        thread.start()
    }

    /// Folds the pass's progress into the state the UI shows meanwhile.
    func show(_ s: Snapshot, in state: inout AppState) {
        if s.curve.count > state.differenceCurve.count {
            state.differenceCurve.append(contentsOf: s.curve[state.differenceCurve.count...])
        }
        if let total = s.totalFrames, total > state.frameCount { state.frameCount = total }
        if let error = s.error {
            state.engine.error = EngineStatus.EngineError(message: error)
            state.engine.text = "stopped"
            return
        }
        let elapsed = Date().timeIntervalSince(started)
        let rate = elapsed > 0.5 && s.framesSeen > 0 ? Double(s.framesSeen) / elapsed : nil
        state.engine.iterationsPerSecond = nil
        state.engine.eta = both(rate, s.totalFrames).map { pair in Double(max(0, pair.1 - s.framesSeen)) / pair.0 }
        let of = s.totalFrames.map { " of \($0)" } ?? ""
        let speed = rate.map { String(format: " at %.0f frames/s", $0) } ?? ""
        state.engine.text = "decoding and detecting scenes: frame \(s.framesSeen)\(of)\(speed)"
    }
}

/// Two optionals as one, when both are there.
private func both<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
