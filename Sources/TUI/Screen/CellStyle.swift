/// Colours and attributes for text written into a grid.
public struct CellStyle: Hashable, Sendable {
    public var foreground: TerminalColor
    public var background: TerminalColor
    public var attributes: CellAttributes

    public init(foreground: TerminalColor = .standard, background: TerminalColor = .standard, attributes: CellAttributes = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }

    public static let plain = CellStyle()
    public static let bold = CellStyle(attributes: .bold)
    public static let dim = CellStyle(attributes: .dim)
    public static let reverse = CellStyle(attributes: .reverse)

    public func with(foreground: TerminalColor) -> CellStyle {
        var s = self
        s.foreground = foreground
        return s
    }

    public func with(background: TerminalColor) -> CellStyle {
        var s = self
        s.background = background
        return s
    }

    public func adding(_ attributes: CellAttributes) -> CellStyle {
        var s = self
        s.attributes.formUnion(attributes)
        return s
    }
}
