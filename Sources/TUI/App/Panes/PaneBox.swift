/// The border every pane has; the focused pane's is brighter so Tab's effect is visible.
enum PaneBox {
    static func draw(_ rect: Rect, title: String, focused: Bool, into grid: inout CellGrid, glyphs: Glyphs) {
        let border = focused ? CellStyle(foreground: .cyan) : CellStyle(foreground: .indexed(244))
        let titleStyle = focused ? CellStyle(foreground: .cyan, attributes: .bold) : CellStyle(attributes: .bold)
        grid.drawBox(rect, title: title, style: border, titleStyle: titleStyle, glyphs: glyphs)
    }

    /// A dim one-line explanation in an empty area, centred.
    static func explain(_ text: String, in rect: Rect, into grid: inout CellGrid, glyphs: Glyphs) {
        guard !rect.isEmpty else { return }
        let row = Rect(x: rect.x, y: rect.y + (rect.height - 1) / 2, width: rect.width, height: 1)
        grid.write(text, in: row, alignment: .center, style: .dim, glyphs: glyphs)
    }
}
