/// The view half of the bubbletea loop: state in, frame out. Pure, so tests render states at any
/// size and read the result as text.
public struct AppView: Sendable {
    public var capabilities: TerminalCapabilities

    public init(capabilities: TerminalCapabilities = .standard) {
        self.capabilities = capabilities
    }

    /// Where the help overlay may go: everything but the header and the status bar.
    public static func helpRect(size: Size) -> Rect { Rect(size: size).inset(top: 1, bottom: 1) }

    public func render(_ state: AppState) -> RenderedFrame {
        var grid = CellGrid(size: state.size)
        let glyphs = capabilities.glyphs
        guard state.size.covers(AppLayout.minimumSize) else {
            TooSmallScreen(size: state.size, glyphs: glyphs).render(into: &grid)
            return RenderedFrame(grid: grid)
        }
        let layout = AppLayout(size: state.size)
        HeaderBar(state: state, glyphs: glyphs).render(into: &grid, rect: layout.header)
        TimelinePane(state: state, capabilities: capabilities, focused: state.focus == .timeline).render(into: &grid, rect: layout.timeline)
        LossPane(state: state, capabilities: capabilities, focused: state.focus == .loss).render(into: &grid, rect: layout.loss)
        var images = PreviewPane(state: state, capabilities: capabilities, focused: state.focus == .preview).render(into: &grid, rect: layout.preview)
        let error = state.engine.error.map { e in "engine error" + (e.frame.map { " at frame \($0)" } ?? "") + ": " + e.message }
        let prompt = state.goTo.map { "go to frame or time (1234, 83.5s, 1:23): " + $0 + (capabilities.unicode ? "▏" : "_") }
        StatusBar(hints: KeyBindings.statusHints(for: state, unicode: capabilities.unicode), message: prompt ?? state.message ?? error,
                  messageIsError: prompt == nil && state.message == nil && error != nil, glyphs: glyphs).render(into: &grid, rect: layout.status)
        if state.showHelp {
            HelpOverlay(sections: KeyBindings.helpSections(unicode: capabilities.unicode), scroll: state.helpScroll, glyphs: glyphs)
                .render(into: &grid, rect: Self.helpRect(size: state.size))
            images = []   // sixel would draw over the help box
        }
        return RenderedFrame(grid: grid, images: images)
    }
}
