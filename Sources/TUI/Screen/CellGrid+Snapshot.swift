/// The grid as plain text, for golden tests and for dumping a frame to a file.
extension CellGrid {
    /// Every row, right-trimmed, joined by newlines; the right halves of wide graphemes are skipped
    /// so the text reads as it looks.
    public var text: String {
        (0..<size.height).map { rowText($0) }.joined(separator: "\n")
    }

    /// One row, right-trimmed.
    public func rowText(_ y: Int) -> String {
        var s = ""
        for c in row(y) where !c.isContinuation { s += c.character }
        while s.last == " " { s.removeLast() }
        return s
    }

    /// The text inside a rectangle, each row right-trimmed.
    public func text(in rect: Rect) -> String {
        let r = rect.intersection(bounds)
        return (r.y..<r.maxY).map { y in
            var s = ""
            for x in r.x..<r.maxX where !self[x, y].isContinuation { s += self[x, y].character }
            while s.last == " " { s.removeLast() }
            return s
        }.joined(separator: "\n")
    }
}
