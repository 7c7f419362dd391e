import Engine
import Foundation

/// Renders the UI's generator images on a thread of its own, so a key press never waits for the
/// generator (which shares the cores with the inversion job). A newer line request replaces one
/// still waiting; frame requests queue, newest first (the cursor's frame before the line's ends).
final class PreviewRenderer: @unchecked Sendable {
    enum Request {
        /// The reconstruction of one frame.
        case frame(index: Int, id: Int, FrameInversion)
        /// G(lerp(start, end, t)) (the ends are frame requests of their own).
        case line(start: FrameInversion, end: FrameInversion, startIndex: Int, endIndex: Int, t: Double)
    }

    enum Result {
        case frame(index: Int, id: Int, RGBImage)
        case line(startIndex: Int, endIndex: Int, t: Double, image: RGBImage)
    }

    private let generator: Generator
    private let condition = NSCondition()
    private var frameRequests: [(index: Int, id: Int, frame: FrameInversion)] = []
    private var lineRequest: Request?
    private var results: [Result] = []
    private var stopped = false

    init(generator: Generator) {
        self.generator = generator
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
        let workspace = SynthesisWorkspace(network: generator.synthesis, batch: 1)
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
                result = .frame(index: index, id: id, image(generator.synthesis.render(f, workspace: workspace)))
            case .line(let a, let b, let startIndex, let endIndex, let t):
                let w = LatentLine(start: a.ws, end: b.ws).latent(at: Float(t))
                // The start frame's noise maps: within a scene (the scene method) they are shared anyway.
                let line = FrameInversion(ws: w, noise: a.noise, lossHistory: [], finalLoss: .nan, evaluations: 0)
                result = .line(startIndex: startIndex, endIndex: endIndex, t: t, image: image(generator.synthesis.render(line, workspace: workspace)))
            }
            condition.lock()
            results.append(result)
            condition.unlock()
        }
    }

    private func image(_ rendered: Tensor) -> RGBImage {
        RGBImage(tensor: rendered.reshaped(Array(rendered.shape.dropFirst())))
    }
}
