/// Text, fills and boxes. Everything is clipped to the grid and to an optional clip rectangle.
extension CellGrid {
    /// Fills a rectangle with one character in one style.
    public mutating func fill(_ rect: Rect, character: String = " ", style: CellStyle = .plain) {
        let r = rect.intersection(bounds)
        guard !r.isEmpty else { return }
        let cell = Cell(character, style: style)
        for y in r.y..<r.maxY {
            for x in r.x..<r.maxX { set(cell, x: x, y: y) }
        }
    }

    /// Changes the style of the cells in `rect`, keeping their characters (for highlights).
    public mutating func restyle(_ rect: Rect, _ change: (inout CellStyle) -> Void) {
        let r = rect.intersection(bounds)
        guard !r.isEmpty else { return }
        for y in r.y..<r.maxY {
            for x in r.x..<r.maxX {
                var c = cells[y * size.width + x]
                change(&c.style)
                cells[y * size.width + x] = c
            }
        }
    }

    /// Writes one line of text starting at (x, y), clipped to `clip` (default: the whole grid).
    /// Control characters become spaces. A wide grapheme that would straddle the clip edge is
    /// replaced by a space. Returns the column after the last one written.
    @discardableResult
    public mutating func write(_ text: some StringProtocol, x: Int, y: Int, style: CellStyle = .plain, clip: Rect? = nil) -> Int {
        let limit = (clip ?? bounds).intersection(bounds)
        guard y >= limit.y, y < limit.maxY else { return x }
        var cx = x
        for ch in text {
            if cx >= limit.maxX { break }
            var w = DisplayWidth.of(ch)
            var s = String(ch)
            if w == 0 {
                if ch.isNewline || ch == "\t" || ch.unicodeScalars.first!.value < 0x20 { s = " "; w = 1 } else { continue }
            }
            if cx >= limit.x {
                if w == 2 && cx + 1 >= limit.maxX {
                    set(Cell(" ", style: style), x: cx, y: y)
                } else {
                    set(Cell(s, style: style), x: cx, y: y)
                    if w == 2 { set(.continuation.styled(style), x: cx + 1, y: y) }
                }
            } else if w == 2 && cx + 1 == limit.x {
                set(Cell(" ", style: style), x: cx + 1, y: y)
            }
            cx += w
        }
        return cx
    }

    /// Writes text in a rectangle's first row, aligned, and cut with an ellipsis when too long.
    public mutating func write(_ text: String, in rect: Rect, alignment: TextAlignment = .left, style: CellStyle = .plain, glyphs: Glyphs = .unicode) {
        guard !rect.isEmpty else { return }
        let fitted = Self.truncate(text, to: rect.width, ellipsis: glyphs.ellipsis)
        let w = DisplayWidth.of(fitted)
        let x: Int = switch alignment {
        case .left: rect.x
        case .center: rect.x + (rect.width - w) / 2
        case .right: rect.maxX - w
        }
        write(fitted, x: x, y: rect.y, style: style, clip: rect)
    }

    /// Writes several lines, one per row of `rect`, each cut to the width.
    public mutating func write(lines: [String], in rect: Rect, alignment: TextAlignment = .left, style: CellStyle = .plain, glyphs: Glyphs = .unicode) {
        for (i, line) in lines.prefix(rect.height).enumerated() {
            write(line, in: Rect(x: rect.x, y: rect.y + i, width: rect.width, height: 1), alignment: alignment, style: style, glyphs: glyphs)
        }
    }

    /// A box drawn on the rectangle's edge, with an optional title in the top edge.
    public mutating func drawBox(_ rect: Rect, title: String? = nil, style: CellStyle = .plain, titleStyle: CellStyle? = nil, glyphs: Glyphs = .unicode) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let h = glyphs.horizontal, v = glyphs.vertical
        for x in (rect.x + 1)..<(rect.maxX - 1) {
            set(Cell(h, style: style), x: x, y: rect.y)
            set(Cell(h, style: style), x: x, y: rect.maxY - 1)
        }
        for y in (rect.y + 1)..<(rect.maxY - 1) {
            set(Cell(v, style: style), x: rect.x, y: y)
            set(Cell(v, style: style), x: rect.maxX - 1, y: y)
        }
        set(Cell(glyphs.topLeft, style: style), x: rect.x, y: rect.y)
        set(Cell(glyphs.topRight, style: style), x: rect.maxX - 1, y: rect.y)
        set(Cell(glyphs.bottomLeft, style: style), x: rect.x, y: rect.maxY - 1)
        set(Cell(glyphs.bottomRight, style: style), x: rect.maxX - 1, y: rect.maxY - 1)
        if let title, !title.isEmpty, rect.width > 4 {
            // " title " starting two cells in, as htop and btop place theirs.
            let room = Rect(x: rect.x + 2, y: rect.y, width: rect.width - 4, height: 1)
            let fitted = " " + Self.truncate(title, to: room.width - 2, ellipsis: glyphs.ellipsis) + " "
            write(fitted, x: room.x, y: room.y, style: titleStyle ?? style, clip: room)
        }
    }

    /// A horizontal line of `glyphs.horizontal` across a rectangle's first row.
    public mutating func drawHorizontalLine(_ rect: Rect, style: CellStyle = .plain, glyphs: Glyphs = .unicode) {
        fill(Rect(x: rect.x, y: rect.y, width: rect.width, height: min(1, rect.height)), character: glyphs.horizontal, style: style)
    }

    /// Copies another grid in with its top-left corner at (x, y), clipped to this grid.
    public mutating func paste(_ other: CellGrid, x: Int, y: Int) {
        for oy in 0..<other.size.height {
            for ox in 0..<other.size.width { set(other[ox, oy], x: x + ox, y: y + oy) }
        }
    }

    /// `text` cut to at most `width` columns, ending in `ellipsis` when something was cut.
    public static func truncate(_ text: String, to width: Int, ellipsis: String = "…") -> String {
        guard width > 0 else { return "" }
        if DisplayWidth.of(text) <= width { return text }
        let ellipsisWidth = DisplayWidth.of(ellipsis)
        guard width > ellipsisWidth else { return String(repeating: ".", count: width) }
        var out = ""
        var used = 0
        for ch in text {
            let w = DisplayWidth.of(ch)
            if used + w > width - ellipsisWidth { break }
            out.append(ch)
            used += w
        }
        while out.last == " " { out.removeLast() }   // "a long…", not "a long …"
        return out + ellipsis
    }
}

extension Cell {
    /// The same grapheme in another style.
    public func styled(_ style: CellStyle) -> Cell { Cell(character, style: style) }
}
