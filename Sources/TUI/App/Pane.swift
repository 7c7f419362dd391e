/// The panes Tab moves between, in order.
public enum Pane: Int, CaseIterable, Sendable {
    case timeline, loss, preview

    public var title: String {
        switch self {
        case .timeline: "timeline"
        case .loss: "loss"
        case .preview: "preview"
        }
    }

    public var next: Pane { Pane(rawValue: (rawValue + 1) % Pane.allCases.count)! }
    public var previous: Pane { Pane(rawValue: (rawValue + Pane.allCases.count - 1) % Pane.allCases.count)! }
}
