/// A `CommandLineProgress` made on the first update, for work whose total is known only once it has
/// started (a video's frame count, from the container, as detection begins); the bar is removed when
/// the work finishes, since what follows draws its own.
final class LazyProgress: @unchecked Sendable {
    private let label: String
    private let unit: String
    private let enabled: Bool
    private var bar: CommandLineProgress?
    private var finished = false

    init(label: String, unit: String, enabled: Bool = true) {
        self.label = label
        self.unit = unit
        self.enabled = enabled
    }

    func update(_ completed: Int, _ total: Int?) {
        guard !finished else { return }
        if bar == nil { bar = CommandLineProgress(total: total, label: label, unit: unit, enabled: enabled) }
        bar?.update(completed: completed)
    }

    /// Removes the bar, once: later updates and a second call do nothing (the final pass's last word
    /// comes after the held-out test has taken its place).
    func finish() {
        guard !finished else { return }
        finished = true
        bar?.finish(keep: false)
    }
}
