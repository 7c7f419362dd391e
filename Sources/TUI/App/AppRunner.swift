import Foundation

/// The loop that owns the terminal, htop-style: wait for a key with a short timeout, fold in what
/// the engine sent, advance timers, and redraw only when the state changed, at most
/// `maxFramesPerSecond` times a second. Everything outside the UI goes through two closures, so
/// the engine wiring lives with the command that starts the UI.
public final class AppRunner {
    public let terminal: Terminal
    public private(set) var state: AppState
    public var view: AppView
    /// Carries out an effect (engine jobs, saving); may update the state (a message, say).
    public var perform: (AppEffect, inout AppState) -> Void = { _, _ in }
    /// Folds engine snapshots into the state; called every pass, so it must not block.
    public var receive: (inout AppState) -> Void = { _ in }
    public var maxFramesPerSecond = 30
    public var frameDump: FrameDump?
    /// Key-to-screen latencies: when set ($LINSTORY_KEY_LATENCY=FILE), every key's time from being
    /// read to the end of the draw that shows its effect is appended to this file, in milliseconds.
    public var latencyLog: FileHandle?
    private let sixel: SixelOverlayCache
    private let clock = ContinuousClock()

    public init(terminal: Terminal, state: AppState) {
        self.terminal = terminal
        var s = state
        s.size = terminal.size
        self.state = s
        view = AppView(capabilities: terminal.capabilities)
        sixel = SixelOverlayCache(encoder: SixelEncoder(maxColors: terminal.capabilities.sixelColorRegisters))
    }

    /// Runs until the state asks to quit (q, or Ctrl-C as `Key.interrupt`). The caller stops the
    /// terminal afterwards.
    public func run() {
        var drawn: AppState?
        var lastDraw: ContinuousClock.Instant?
        var lastTick = clock.now
        let frameInterval = Duration.seconds(1) / maxFramesPerSecond
        var keyRead: ContinuousClock.Instant?
        while true {
            if let key = terminal.readKey() {
                if keyRead == nil { keyRead = clock.now }
                if case .resize = key { drawn = nil }
                if key == .control("l") { terminal.invalidate(); drawn = nil }
                step(AppUpdate.update(state, key))
            }
            receive(&state)
            let now = clock.now
            step(AppUpdate.apply(.tick((now - lastTick) / .seconds(1)), to: state))
            lastTick = now
            if state.quitRequested { break }
            if drawn != state, lastDraw.map({ now - $0 >= frameInterval }) ?? true {
                let frame = view.render(state)
                terminal.draw(frame.grid, overlays: sixel.overlays(for: frame.images))
                frameDump?.write(frame, capabilities: view.capabilities, notes: [state.message ?? "", state.engine.text])
                drawn = state
                lastDraw = now
                if let read = keyRead, let log = latencyLog {
                    let ms = (clock.now - read) / .milliseconds(1)
                    log.write(String(format: "%.2f\n", ms).data(using: .utf8)!)
                }
                keyRead = nil
            } else if drawn == state {
                keyRead = nil   // the key changed nothing on screen
            }
        }
    }

    private func step(_ result: (state: AppState, effects: [AppEffect])) {
        state = result.state
        for effect in result.effects { perform(effect, &state) }
    }
}
