import TUI

/// Feeds keys to `AppUpdate` in order, as the UI loop does, and collects every effect.
func pressKeys(_ keys: [Key], from state: AppState) -> (AppState, [AppEffect]) {
    var s = state
    var all: [AppEffect] = []
    for key in keys {
        let (next, effects) = AppUpdate.update(s, key)
        s = next
        all += effects
    }
    return (s, all)
}
