import Engine

/// The images: in browse mode the frame under the cursor, its reconstruction and their
/// difference; in interpolation mode the line's two ends and G at t, with the slider below.
public struct PreviewPane {
    let state: AppState
    let capabilities: TerminalCapabilities
    let focused: Bool

    /// The slider's two rows at the bottom of the pane in interpolation mode.
    static func sliderRect(box: Rect) -> Rect {
        let inner = box.inset(by: 1)
        return Rect(x: inner.x, y: inner.maxY - 2, width: inner.width, height: min(2, inner.height))
    }

    public static func slider(state: AppState, glyphs: Glyphs) -> Slider {
        var slider = Slider(value: state.interpolation.t, glyphs: glyphs)
        // Along the scene's own path (nothing pinned) the knots are where it bends; a pinned pair is a straight line.
        if state.interpolation.pinnedStart == nil && state.interpolation.pinnedEnd == nil {
            let ends = AppUpdate.interpolationEnds(state)
            slider.marks = state.knotPositions(from: ends.start, to: ends.end)
        }
        return slider
    }

    /// The slider's track, for mouse clicks.
    public static func sliderTrack(state: AppState, box: Rect) -> Rect {
        slider(state: state, glyphs: .unicode).trackRect(in: sliderRect(box: box))
    }

    /// Draws and returns the sixel placements, if any.
    func render(into grid: inout CellGrid, rect: Rect) -> [ImagePlacement] {
        let glyphs = capabilities.glyphs
        PaneBox.draw(rect, title: title(glyphs.separator), focused: focused, into: &grid, glyphs: glyphs)
        let inner = rect.inset(by: 1)
        guard inner.height >= 3, inner.width >= 9 else { return [] }
        switch state.mode {
        case .browse: return renderBrowse(into: &grid, inner: inner, glyphs: glyphs)
        case .interpolate: return renderInterpolation(into: &grid, rect: rect, inner: inner, glyphs: glyphs)
        }
    }

    func title(_ dot: String) -> String {
        switch state.mode {
        case .browse:
            guard let shown = state.previews.frame, shown != state.cursor else { return "preview \(dot) frame \(state.cursor)" }
            return "preview \(dot) frame \(shown) (loading \(state.cursor))"
        case .interpolate:
            let ends = AppUpdate.interpolationEnds(state)
            let pinned = state.interpolation.pinnedStart != nil || state.interpolation.pinnedEnd != nil
            return "interpolation \(dot) frames \(ends.start) to \(ends.end)" + (pinned ? " (pinned)" : "")
        }
    }

    private func renderBrowse(into grid: inout CellGrid, inner: Rect, glyphs: Glyphs) -> [ImagePlacement] {
        let p = state.previews
        var area = inner
        if state.frameCount == 0 {
            PaneBox.explain("no video loaded", in: inner, into: &grid, glyphs: glyphs)
            return []
        }
        if p.reconstruction == nil {
            // One explanation across the pane instead of a cut-off one per column.
            let note: Rect
            (area, note) = inner.splitBottom(1)
            grid.write(state.hasInversion || state.engine.isInverting ? "this frame is not inverted yet" : "no inversion yet: press r",
                       in: note, alignment: .center, style: .dim, glyphs: glyphs)
        }
        let tuned = p.frame.map { f in state.tunedScenes.contains { $0.contains(f) } } ?? false
        let panels: [(String, RGBImage?)] = [
            ("target", p.target), (tuned ? "reconstruction (tuned)" : "reconstruction", p.reconstruction), ("|difference|", p.difference),
        ]
        return drawPanels(panels, in: area, into: &grid, glyphs: glyphs)
    }

    private func renderInterpolation(into grid: inout CellGrid, rect: Rect, inner: Rect, glyphs: Glyphs) -> [ImagePlacement] {
        let sliderArea = Self.sliderRect(box: rect)
        Self.slider(state: state, glyphs: glyphs).render(into: &grid, rect: sliderArea)
        let area = Rect(x: inner.x, y: inner.y, width: inner.width, height: sliderArea.y - inner.y)
        let i = state.interpolation
        let ends = AppUpdate.interpolationEnds(state)
        let shownT = i.imageT.map { "t = \(NumberText.fixed($0, decimals: 2))" } ?? "G(lerp)"
        if i.startImage == nil && i.image == nil && i.endImage == nil {
            PaneBox.explain(state.hasInversion ? "rendering" + glyphs.ellipsis : "no latents yet: press r", in: area, into: &grid, glyphs: glyphs)
            return []
        }
        let panels: [(String, RGBImage?)] = [("frame \(ends.start)", i.startImage), (shownT, i.image), ("frame \(ends.end)", i.endImage)]
        return drawPanels(panels, in: area, into: &grid, glyphs: glyphs)
    }

    /// Three captioned images side by side.
    private func drawPanels(_ panels: [(String, RGBImage?)], in area: Rect, into grid: inout CellGrid, glyphs: Glyphs) -> [ImagePlacement] {
        guard area.height >= 2 else { return [] }
        let painter = ImagePainter(capabilities: capabilities)
        var placements: [ImagePlacement] = []
        for (column, (caption, image)) in zip(area.columns(panels.count, gap: 1), panels) {
            grid.write(caption, in: column, alignment: .center, style: .bold, glyphs: glyphs)
            let imageRect = column.inset(top: 1)
            if let image {
                if let placement = painter.paint(image, into: &grid, rect: imageRect) { placements.append(placement) }
            } else {
                PaneBox.explain(glyphs.isUnicode ? "—" : "-", in: imageRect, into: &grid, glyphs: glyphs)
            }
        }
        return placements
    }
}
