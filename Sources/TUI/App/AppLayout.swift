/// Where everything goes for a terminal size: the header row, the timeline across the top, the
/// loss and preview panes side by side, the status bar on the last row. Pure, so the update can
/// map mouse clicks with the same geometry the view draws.
public struct AppLayout: Equatable, Sendable {
    /// Below this the UI shows only "terminal too small".
    public static let minimumSize = Size(width: 60, height: 18)

    public let size: Size
    public let header: Rect
    public let timeline: Rect
    public let loss: Rect
    public let preview: Rect
    public let status: Rect

    public init(size: Size) {
        self.size = size
        let all = Rect(size: size)
        let (headerRow, belowHeader) = all.splitTop(1)
        let (middle, statusRow) = belowHeader.splitBottom(1)
        // A taller terminal gives the difference curve more rows.
        let timelineHeight = size.height >= 32 ? 9 : 7
        let (timelineBox, lower) = middle.splitTop(timelineHeight)
        let lossWidth = max(28, size.width * 2 / 5)
        let (lossBox, previewBox) = lower.splitLeft(lossWidth)
        header = headerRow
        timeline = timelineBox
        loss = lossBox
        preview = previewBox
        status = statusRow
    }

    public var fits: Bool { size.covers(Self.minimumSize) }

    public func rect(of pane: Pane) -> Rect {
        switch pane {
        case .timeline: timeline
        case .loss: loss
        case .preview: preview
        }
    }

    public func pane(atX x: Int, y: Int) -> Pane? {
        Pane.allCases.first { rect(of: $0).contains(x: x, y: y) }
    }
}
