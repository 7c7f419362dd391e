import Engine
import Foundation

/// Renders the UI's generator images on a thread of its own, so a key press never waits for the
/// generator (which shares the cores with the inversion job). A newer line request replaces one
/// still waiting; frame requests queue, newest first (the cursor's frame before the line's ends).
final class PreviewRenderer: @unchecked Sendable {
    enum Request {
        /// The reconstruction of one frame.
        case frame(index: Int, id: Int, FrameInversion)
        /// G(path at t) (its ends are frame requests of their own).
        case line(LatentPath, startIndex: Int, endIndex: Int, t: Double)
    }

    enum Result {
        case frame(index: Int, id: Int, RGBImage)
        case line(startIndex: Int, endIndex: Int, t: Double, image: RGBImage)
    }

    /// Each frame's generator: its scene's tuned one where the scene is tuned.
    private let generators: SceneGenerators
    private let condition = NSCondition()
    private var frameRequests: [(index: Int, id: Int, frame: FrameInversion)] = []
    private var lineRequest: Request?
    private var results: [Result] = []
    private var stopped = false

    init(generators: SceneGenerators) {
        self.generators = generators
        let thread = Thread { [self] in loop() }
        thread.name = "linstory preview"
        thread.start()
    }

    func request(_ r: Request) {
        condition.lock()
        switch r {
        case .frame(let index, let id, let f):
            frameRequests.removeAll { $0.index == index }
            frameRequests.append((index, id, f))
        case .line: lineRequest = r
        }
        condition.signal()
        condition.unlock()
    }

    /// Results finished since the last call, oldest first.
    func take() -> [Result] {
        condition.lock()
        defer { condition.unlock() }
        let r = results
        results = []
        return r
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        // Shapes only: serves the model and every tuned scene's generator.
        let workspace = SynthesisWorkspace(network: generators.base.synthesis, batch: 1)
        while true {
            condition.lock()
            while frameRequests.isEmpty && lineRequest == nil && !stopped { condition.wait() }
            if stopped {
                condition.unlock()
                return
            }
            // Scrubbing first: it is what the user is looking at while it moves.
            let next: Request
            if let line = lineRequest {
                next = line
                lineRequest = nil
            } else {
                let r = frameRequests.removeLast()
                next = .frame(index: r.index, id: r.id, r.frame)
            }
            condition.unlock()
            let result: Result
            switch next {
            case .frame(let index, let id, let f):
                // A tuned scene that cannot be read shows the model's render (the tuning pane says why).
                let g = (try? generators.generator(forFrame: index)) ?? generators.base
                result = .frame(index: index, id: id, g.synthesis.renderImage(f, workspace: workspace))
            case .line(let path, let startIndex, let endIndex, let t):
                let g = (try? generators.generator(between: startIndex, and: endIndex)) ?? generators.base
                let image = g.synthesis.renderImage(path.inversion(at: t), workspace: workspace)
                result = .line(startIndex: startIndex, endIndex: endIndex, t: t, image: image)
            }
            condition.lock()
            results.append(result)
            condition.unlock()
        }
    }
}
