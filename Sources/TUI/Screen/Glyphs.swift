/// The characters the UI draws with, in a Unicode set and an ASCII set, so that every widget
/// degrades the same way on a terminal without UTF-8.
public struct Glyphs: Hashable, Sendable {
    public var horizontal: String
    public var vertical: String
    public var topLeft: String
    public var topRight: String
    public var bottomLeft: String
    public var bottomRight: String
    public var ellipsis: String
    /// Between parts of a title: "timeline · frame 42".
    public var separator: String
    /// Cut markers on the timeline, one per kind.
    public var hardCut: String
    public var dissolveCut: String
    public var fadeCut: String
    /// The slider's track and thumb.
    public var track: String
    public var thumb: String
    /// Where a scene's latent path bends (a knot of the scene method's polyline): timeline and slider.
    public var knot: String
    /// Bars from empty to full, used by progress bars and block charts.
    public var barEighths: [String]
    /// Shades from light to dark, for heat rows without colour.
    public var shades: [String]
    public var isUnicode: Bool

    public static let unicode = Glyphs(
        horizontal: "─", vertical: "│", topLeft: "┌", topRight: "┐", bottomLeft: "└", bottomRight: "┘",
        ellipsis: "…", separator: "·", hardCut: "┃", dissolveCut: "╳", fadeCut: "◢", track: "─", thumb: "●", knot: "◆",
        barEighths: [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"], shades: [" ", "░", "▒", "▓", "█"],
        isUnicode: true)

    public static let ascii = Glyphs(
        horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+",
        ellipsis: "~", separator: "-", hardCut: "|", dissolveCut: "x", fadeCut: "/", track: "-", thumb: "O", knot: "+",
        barEighths: [" ", " ", " ", " ", "#", "#", "#", "#", "#"], shades: [" ", ".", ":", "+", "#"],
        isUnicode: false)

    public static func forUnicode(_ unicode: Bool) -> Glyphs { unicode ? .unicode : .ascii }
}
