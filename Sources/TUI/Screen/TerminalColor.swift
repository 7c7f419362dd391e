/// A cell's foreground or background colour as the UI asks for it. The grid keeps what was asked;
/// `ColorLevel.resolve` turns it into what a terminal can show, so one render serves every terminal.
public enum TerminalColor: Hashable, Sendable {
    /// The terminal's own default colour (ncurses' -1 after `use_default_colors`).
    case standard
    /// One of xterm's 256 colours: 0-7 the basic ANSI colours, 8-15 bright, 16-231 a 6x6x6 cube,
    /// 232-255 greys.
    case indexed(UInt8)
    /// 24-bit colour.
    case rgb(UInt8, UInt8, UInt8)

    // The eight basic colours, the ones every colour terminal has.
    public static let black = TerminalColor.indexed(0)
    public static let red = TerminalColor.indexed(1)
    public static let green = TerminalColor.indexed(2)
    public static let yellow = TerminalColor.indexed(3)
    public static let blue = TerminalColor.indexed(4)
    public static let magenta = TerminalColor.indexed(5)
    public static let cyan = TerminalColor.indexed(6)
    public static let white = TerminalColor.indexed(7)

    /// The colour's red, green and blue, for indexed colours from xterm's default palette;
    /// nil for `.standard`, whose value only the terminal knows.
    public var rgbComponents: (r: UInt8, g: UInt8, b: UInt8)? {
        switch self {
        case .standard: nil
        case .indexed(let i): XtermPalette.rgb(ofIndex: i)
        case .rgb(let r, let g, let b): (r, g, b)
        }
    }
}
