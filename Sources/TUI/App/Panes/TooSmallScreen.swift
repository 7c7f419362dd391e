/// What a terminal below the minimum size gets: its size, the size needed, and how to quit.
struct TooSmallScreen {
    let size: Size
    let glyphs: Glyphs

    func render(into grid: inout CellGrid) {
        let lines = ["terminal too small: \(size)", "needs \(AppLayout.minimumSize)", "q quits"]
        let box = grid.bounds.centered(Size(width: grid.size.width, height: lines.count))
        grid.write(lines: lines, in: box, alignment: .center, style: .plain, glyphs: glyphs)
        grid.restyle(Rect(x: 0, y: box.y, width: grid.size.width, height: 1)) { $0.attributes.insert(.bold) }
    }
}
