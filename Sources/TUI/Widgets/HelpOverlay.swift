/// The `?` screen: every key, by section, in a box over the middle of the screen. When the
/// terminal is too short for all of it, it scrolls, and the footer says how far and how.
public struct HelpOverlay: Sendable {
    public struct Section: Hashable, Sendable {
        public var title: String
        public var hints: [KeyHint]
        public init(_ title: String, _ hints: [KeyHint]) {
            self.title = title
            self.hints = hints
        }
    }

    public var sections: [Section]
    /// Lines scrolled off the top, when the terminal is too short for all of them.
    public var scroll: Int
    public var title: String
    public var footer: String
    public var glyphs: Glyphs

    public init(sections: [Section], scroll: Int = 0, title: String = "Keys", footer: String = "? or Esc closes this", glyphs: Glyphs = .unicode) {
        self.sections = sections
        self.scroll = scroll
        self.title = title
        self.footer = footer
        self.glyphs = glyphs
    }

    /// The lines inside the box, key column padded to one width.
    func lines() -> [(text: String, isHeading: Bool)] {
        let keyWidth = sections.flatMap(\.hints).map { DisplayWidth.of($0.keys) }.max() ?? 0
        var out: [(String, Bool)] = []
        for (i, section) in sections.enumerated() {
            if i > 0 { out.append(("", false)) }
            out.append((section.title, true))
            for hint in section.hints {
                let pad = String(repeating: " ", count: keyWidth - DisplayWidth.of(hint.keys))
                out.append(("  " + hint.keys + pad + "  " + hint.action, false))
            }
        }
        return out
    }

    /// The box's rectangle inside `rect`: as big as the text, capped by `rect`.
    public func boxRect(in rect: Rect) -> Rect {
        let body = lines()
        let height = min(body.count + 4, rect.height)   // borders, a blank line and the footer
        let scrolls = body.count + 4 > rect.height
        let footerWidth = DisplayWidth.of(scrolls ? scrollFooter(first: body.count - 1, room: 1, total: body.count) : footer)
        let width = max(body.map { DisplayWidth.of($0.text) }.max() ?? 0, footerWidth, DisplayWidth.of(title) + 4) + 4
        return rect.centered(Size(width: min(width, rect.width), height: height))
    }

    func scrollFooter(first: Int, room: Int, total: Int) -> String {
        "lines \(first + 1)-\(first + room) of \(total) \(glyphs.separator) j k scroll \(glyphs.separator) ? Esc close"
    }

    /// The largest useful `scroll` for a rectangle: the lines that do not fit.
    public func maxScroll(in rect: Rect) -> Int {
        let inside = boxRect(in: rect).inset(top: 1, left: 2, bottom: 1, right: 2)
        return max(0, lines().count - max(0, inside.height - 2))
    }

    public func render(into grid: inout CellGrid, rect: Rect) {
        let box = boxRect(in: rect)
        guard box.width >= 4, box.height >= 3 else { return }
        grid.fill(box)
        grid.drawBox(box, title: title, style: CellStyle(foreground: .cyan), titleStyle: CellStyle(foreground: .cyan, attributes: .bold), glyphs: glyphs)
        let inside = box.inset(top: 1, left: 2, bottom: 1, right: 2)
        let body = lines()
        let room = max(0, inside.height - 2)   // a blank line and the footer stay
        let first = min(max(0, scroll), max(0, body.count - room))
        for (i, line) in body.dropFirst(first).prefix(room).enumerated() {
            grid.write(line.text, in: Rect(x: inside.x, y: inside.y + i, width: inside.width, height: 1),
                       style: line.isHeading ? .bold : .plain, glyphs: glyphs)
        }
        if inside.height >= 1 {
            let shown = body.count > room ? scrollFooter(first: first, room: room, total: body.count) : footer
            grid.write(shown, in: Rect(x: inside.x, y: inside.maxY - 1, width: inside.width, height: 1), alignment: .center, style: .dim, glyphs: glyphs)
        }
    }
}
