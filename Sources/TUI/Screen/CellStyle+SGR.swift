/// Styles as ANSI SGR sequences, for the cells `Terminal` writes itself in 24-bit colour.
extension CellStyle {
    var hasRGB: Bool {
        if case .rgb = foreground { return true }
        if case .rgb = background { return true }
        return false
    }

    /// The SGR sequence that sets this style from scratch, 24-bit colours as they are.
    var sgr: String {
        var codes = ["0"]
        if attributes.contains(.bold) { codes.append("1") }
        if attributes.contains(.dim) { codes.append("2") }
        if attributes.contains(.italic) { codes.append("3") }
        if attributes.contains(.underline) { codes.append("4") }
        if attributes.contains(.reverse) { codes.append("7") }
        codes.append(Self.sgr(foreground, base: 38))
        codes.append(Self.sgr(background, base: 48))
        return "\u{1B}[" + codes.joined(separator: ";") + "m"
    }

    private static func sgr(_ color: TerminalColor, base: Int) -> String {
        switch color {
        case .standard: "\(base + 1)"
        case .indexed(let i): "\(base);5;\(i)"
        case .rgb(let r, let g, let b): "\(base);2;\(r);\(g);\(b)"
        }
    }
}
