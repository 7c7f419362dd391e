import Engine

/// The images the UI shows: each frame's target and reconstruction (rendered off the UI thread by
/// `PreviewRenderer`, kept in the `FrameStore`), and the scrubber's point on a latent path.
extension AppEngine {
    func targetImage(_ i: Int) -> RGBImage? {
        guard i >= 0, i < frameCount else { return nil }
        return (try? targets.targets(i..<(i + 1))).map { RGBImage(generated: $0) }
    }

    /// The frame's reconstruction if rendered; otherwise asks the renderer for it (nil meanwhile).
    func reconstruction(_ i: Int) -> RGBImage? {
        if let image = frames.image(i) { return image }
        if let f = frames.result(i), let id = frames.startRender(i) { renderer.request(.frame(index: i, id: id, f)) }
        return nil
    }

    func show(frame f: Int, in state: inout AppState) {
        guard let target = targetImage(f) else { return }
        let recon = reconstruction(f)
        // Keep the in-flight preview of this frame until the saved reconstruction is rendered.
        if recon == nil, state.previews.frame == f, state.previews.reconstruction != nil, frames.result(f) == nil { return }
        state.previews = PreviewImages(frame: f, target: target, reconstruction: recon, difference: recon.map { AppState.absoluteDifference(target, $0) })
    }

    /// Folds the renderer's finished images into the state.
    func collectRenders(into state: inout AppState) {
        for result in renderer.take() {
            switch result {
            case .frame(let index, let id, let image):
                guard frames.finishRender(index, id: id, image: image) else { continue }
                if index == state.cursor { show(frame: index, in: &state) }
                let ends = AppUpdate.interpolationEnds(state)
                if index == ends.start { state.interpolation.startImage = image }
                if index == ends.end { state.interpolation.endImage = image }
            case .line(let startIndex, let endIndex, let t, let image):
                let ends = AppUpdate.interpolationEnds(state)
                guard ends.start == startIndex, ends.end == endIndex else { continue }
                state.interpolation.image = image
                state.interpolation.imageT = t
            }
        }
    }

    /// Unpinned, the scrubber follows the scene's path (the scene method's segments); with a pinned
    /// end it is the straight line between the two frames.
    func renderInterpolation(startFrame: Int, endFrame: Int, t: Double, state: inout AppState) {
        let alongScene = state.interpolation.pinnedStart == nil && state.interpolation.pinnedEnd == nil
        let path: LatentPath?
        if alongScene {
            path = LatentPath(scene: min(startFrame, endFrame)...max(startFrame, endFrame)) { frames.result($0) }
        } else if let a = frames.result(startFrame), let b = frames.result(endFrame) {
            path = LatentPath(from: startFrame, a, to: endFrame, b)
        } else {
            path = nil
        }
        guard let path else {
            let missing = [startFrame, endFrame].first { frames.result($0) == nil }
            state.message = "frame \(missing ?? startFrame) is not inverted yet (\(method.rawValue)): nothing to interpolate"
            state.interpolation.startImage = nil
            state.interpolation.endImage = nil
            state.interpolation.image = nil
            state.interpolation.imageT = nil
            return
        }
        state.interpolation.startImage = reconstruction(startFrame)
        state.interpolation.endImage = reconstruction(endFrame)
        renderer.request(.line(path, startIndex: startFrame, endIndex: endFrame, t: startFrame <= endFrame ? t : 1 - t))
    }
}
