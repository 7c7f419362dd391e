/// How many colours a terminal shows, from none to 24-bit, and how a wanted colour degrades to it.
public enum ColorLevel: Int, Comparable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// No colours (`has_colors()` false, or NO_COLOR): attributes only.
    case monochrome = 0
    /// The eight ANSI colours (TERM=xterm, the Linux console).
    case ansi8 = 1
    /// xterm's 256 colours.
    case ansi256 = 2
    /// 24-bit colour (COLORTERM=truecolor or a direct-colour terminfo entry).
    case truecolor = 3

    public static func < (a: ColorLevel, b: ColorLevel) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .monochrome: "monochrome"
        case .ansi8: "8 colours"
        case .ansi256: "256 colours"
        case .truecolor: "truecolour"
        }
    }

    /// The nearest colour this level can show. Indexed colours above 7 are matched by their RGB
    /// value in xterm's palette, RGB to the nearest of the 240 cube and grey entries (the first 16
    /// are left out on purpose: terminals theme them, so they are not reliable as exact colours).
    public func resolve(_ color: TerminalColor) -> TerminalColor {
        switch (self, color) {
        case (_, .standard), (.truecolor, _):
            return color
        case (.monochrome, _):
            return .standard
        case (.ansi256, .indexed):
            return color
        case (.ansi256, .rgb(let r, let g, let b)):
            return .indexed(XtermPalette.nearestIndex(r: r, g: g, b: b))
        case (.ansi8, .indexed(let i)) where i < 8:
            return color
        case (.ansi8, .indexed(let i)) where i < 16:
            return .indexed(i - 8)
        case (.ansi8, _):
            let c = color.rgbComponents!
            return .indexed(XtermPalette.nearestBasicIndex(r: c.r, g: c.g, b: c.b))
        }
    }
}
