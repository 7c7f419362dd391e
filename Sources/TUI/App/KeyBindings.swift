/// The keys as users read them: the help overlay's sections and the status bar's hints for each
/// situation. `KeyMap` implements them; keep the two in step.
public enum KeyBindings {
    public static func helpSections(unicode: Bool) -> [HelpOverlay.Section] {
        let lr = unicode ? "← →" : "Left Right"
        return [
            .init("Move", [
                KeyHint("\(lr)  h l", "previous / next frame"),
                KeyHint("H L  PgUp PgDn", "previous / next scene"),
                KeyHint("Home End  G", "first / last frame"),
                KeyHint("g", "go to a frame or a time (1234, 83.5s, 1:23)"),
                KeyHint("+ -  z  wheel", "timeline: zoom in / out; whole, scene, frames"),
                KeyHint("j k", "timeline: 10 frames; loss: log / linear scale"),
                KeyHint("Tab  Shift-Tab", "next / previous pane"),
                KeyHint("click", "timeline: go to the frame; a pane: focus it"),
            ]),
            .init("Cuts", [
                KeyHint("c", "add or remove a cut at the cursor"),
                KeyHint("[ ]", "move the nearest cut one frame"),
                KeyHint("r", "re-run inversion for the scenes edits touched"),
            ]),
            .init("Interpolation", [
                KeyHint("i", "interpolation mode on / off (Esc leaves)"),
                KeyHint("\(lr)  h l", "move t one step (beyond 0 and 1 extrapolates)"),
                KeyHint("+ -", "bigger / smaller step"),
                KeyHint("p", "play the path as a loop"),
                KeyHint("1 2  0", "pin the cursor's frame as start / end; unpin"),
            ]),
            .init("Engine and session", [
                KeyHint("m", "choose the inversion method"),
                KeyHint("f", "invert from the cursor's scene, then the rest"),
                KeyHint("t", "tune the generator on the cursor's scene"),
                KeyHint("space", "pause / resume the engine"),
                KeyHint("e", "export latents, video, cuts"),
                KeyHint("s", "save the session"),
                KeyHint("?", "this help"),
                KeyHint("q", "quit (saves)"),
            ]),
        ]
    }

    /// The hints for the status bar, most useful first (the bar drops from the end).
    public static func statusHints(for state: AppState, unicode: Bool) -> [KeyHint] {
        let lr = unicode ? "←→" : "<>"
        if !state.size.covers(AppLayout.minimumSize) { return [KeyHint("q", "quit")] }
        if state.showHelp { return [KeyHint("j k", "scroll"), KeyHint("? Esc q", "close help")] }
        if state.goTo != nil { return [KeyHint("Enter", "go"), KeyHint("Esc", "cancel")] }
        switch state.mode {
        case .browse:
            return [KeyHint(lr, "frame"), KeyHint("H L", "scene"), KeyHint("c", "cut"), KeyHint("[ ]", "move cut"),
                    KeyHint("r", "re-run"), KeyHint("i", "interpolate"), KeyHint("Tab", "pane"),
                    KeyHint("?", "help"), KeyHint("q", "quit")]
        case .interpolate:
            return [KeyHint(lr, "t"), KeyHint("+ -", "step"), KeyHint("p", state.interpolation.playing ? "stop" : "play"),
                    KeyHint("1 2", "pin"), KeyHint("H L", "scene"), KeyHint("Esc", "back"),
                    KeyHint("?", "help"), KeyHint("q", "quit")]
        }
    }
}
