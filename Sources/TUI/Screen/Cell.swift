/// One terminal cell: a grapheme and how to draw it.
public struct Cell: Hashable, Sendable {
    /// One grapheme cluster as a string. A wide grapheme (CJK, most emoji) sits in its left cell;
    /// the right cell holds `Cell.continuation` (an empty string), which the terminal skips.
    public var character: String
    public var style: CellStyle

    public init(_ character: String = " ", style: CellStyle = .plain) {
        self.character = character
        self.style = style
    }

    public static let blank = Cell()
    /// The right half of a wide grapheme.
    public static let continuation = Cell("")

    public var isContinuation: Bool { character.isEmpty }
    public var foreground: TerminalColor { style.foreground }
    public var background: TerminalColor { style.background }
    public var attributes: CellAttributes { style.attributes }
}
