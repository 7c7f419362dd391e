/// What the terminal can show, decided once at start-up from the environment, ncurses' colour
/// count, the locale and the terminal's own answers; `--images` overrides the image mode.
public struct TerminalCapabilities: Equatable, Sendable {
    public var colorLevel: ColorLevel
    /// The locale is UTF-8, so box drawing, braille and block characters can be used.
    public var unicode: Bool
    /// The terminal said it draws sixel graphics (DA1 feature 4).
    public var sixel: Bool
    /// Colour registers for sixel images; VT340 mode in xterm has 16 unless configured, most
    /// modern terminals 256 or more.
    public var sixelColorRegisters: Int
    /// A cell's size in pixels, for sizing sixel images; 10x20 when the terminal does not say.
    public var cellPixelSize: Size
    /// How previews are drawn.
    public var images: ImageMode

    public init(colorLevel: ColorLevel, unicode: Bool, sixel: Bool = false, sixelColorRegisters: Int = 256,
                cellPixelSize: Size = Self.defaultCellPixelSize, images: ImageMode? = nil) {
        self.colorLevel = colorLevel
        self.unicode = unicode
        self.sixel = sixel
        self.sixelColorRegisters = sixelColorRegisters
        self.cellPixelSize = cellPixelSize
        self.images = images ?? Self.bestImageMode(sixel: sixel, unicode: unicode, colorLevel: colorLevel)
    }

    public static let defaultCellPixelSize = Size(width: 10, height: 20)

    /// A UTF-8, 256-colour terminal without sixel: what tests render for unless they say otherwise.
    public static let standard = TerminalCapabilities(colorLevel: .ansi256, unicode: true)

    public var glyphs: Glyphs { .forUnicode(unicode) }

    /// Decides from what the environment and the terminal said.
    /// - Parameters:
    ///   - environment: the process environment (COLORTERM, NO_COLOR).
    ///   - ncursesColors: ncurses' COLORS after `start_color`, 0 when the terminal has no colour.
    ///   - codeset: `nl_langinfo(CODESET)` after `setlocale(LC_ALL, "")`.
    ///   - probe: the terminal's answers, nil when it was not asked or did not answer.
    ///   - imagesOverride: `--images`.
    public static func detect(environment: [String: String], ncursesColors: Int, codeset: String,
                              probe: TerminalProbeReply?, imagesOverride: ImageMode?) -> TerminalCapabilities {
        let colorTerm = environment["COLORTERM"]?.lowercased() ?? ""
        let level: ColorLevel
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty {
            level = .monochrome      // https://no-color.org
        } else if ncursesColors <= 0 {
            level = .monochrome
        } else if ncursesColors >= 1 << 24 || colorTerm == "truecolor" || colorTerm == "24bit" {
            level = .truecolor
        } else if ncursesColors >= 256 {
            level = .ansi256
        } else {
            level = .ansi8
        }
        let upper = codeset.uppercased()
        let unicode = upper == "UTF-8" || upper == "UTF8"
        let sixel = probe?.supportsSixel ?? false
        var images = imagesOverride
        // An override the terminal cannot draw at all falls back rather than printing garbage.
        if images == .blocks && (!unicode || level == .monochrome) { images = .ascii }
        return TerminalCapabilities(
            colorLevel: level, unicode: unicode, sixel: sixel,
            sixelColorRegisters: min(1024, max(16, probe?.sixelColorRegisters ?? 256)),
            cellPixelSize: probe?.cellPixelSize ?? defaultCellPixelSize, images: images)
    }

    /// Whether the locale the environment names is UTF-8 (LC_ALL, then LC_CTYPE, then LANG), for
    /// output written before or without `setlocale`, like command-line progress bars.
    public static func localeIsUTF8(environment: [String: String]) -> Bool {
        let name = ["LC_ALL", "LC_CTYPE", "LANG"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty } ?? ""
        let upper = name.uppercased()
        return upper.contains("UTF-8") || upper.contains("UTF8")
    }

    static func bestImageMode(sixel: Bool, unicode: Bool, colorLevel: ColorLevel) -> ImageMode {
        if sixel { return .sixel }
        if unicode && colorLevel >= .ansi256 { return .blocks }
        return .ascii
    }
}
