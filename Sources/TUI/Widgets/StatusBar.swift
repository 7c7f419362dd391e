/// The bottom line: the keys that work right now, and a message on the right (the last action's
/// result, or an engine error). Hints that do not fit are dropped from the end; the message wins.
public struct StatusBar: Sendable {
    public var hints: [KeyHint]
    public var message: String?
    public var messageIsError: Bool
    public var glyphs: Glyphs

    public init(hints: [KeyHint], message: String? = nil, messageIsError: Bool = false, glyphs: Glyphs = .unicode) {
        self.hints = hints
        self.message = message
        self.messageIsError = messageIsError
        self.glyphs = glyphs
    }

    public func render(into grid: inout CellGrid, rect: Rect) {
        guard !rect.isEmpty else { return }
        let row = Rect(x: rect.x, y: rect.y, width: rect.width, height: 1)
        let barStyle = CellStyle(background: .indexed(236))
        grid.fill(row, style: barStyle)
        var room = row
        if let message, !message.isEmpty {
            let text = CellGrid.truncate(message, to: max(0, rect.width / 2), ellipsis: glyphs.ellipsis)
            let w = DisplayWidth.of(text)
            let style = messageIsError ? CellStyle(foreground: .red, background: .indexed(236), attributes: .bold) : barStyle
            grid.write(text, x: row.maxX - w - 1, y: row.y, style: style, clip: row)
            room = row.inset(right: w + 2)
        }
        var x = room.x + 1
        for hint in hints {
            let needed = DisplayWidth.of(hint.keys) + 1 + DisplayWidth.of(hint.action)
            guard x + needed <= room.maxX else { break }
            x = grid.write(hint.keys, x: x, y: row.y, style: barStyle.adding(.bold).with(foreground: .yellow), clip: room)
            x = grid.write(" " + hint.action, x: x, y: row.y, style: barStyle, clip: room) + 2
        }
    }
}
