/// A screen's worth of cells: what a frame looks like, independent of any terminal. Rendering is a
/// pure function of state into a `CellGrid`; `Terminal` draws grids, tests read them as text.
public struct CellGrid: Equatable, Sendable {
    public let size: Size
    /// Row-major, `size.width * size.height` cells.
    public internal(set) var cells: [Cell]

    public init(size: Size, filledWith cell: Cell = .blank) {
        self.size = Size(width: max(0, size.width), height: max(0, size.height))
        cells = Array(repeating: cell, count: self.size.width * self.size.height)
    }

    public var bounds: Rect { Rect(size: size) }

    public func contains(x: Int, y: Int) -> Bool {
        x >= 0 && y >= 0 && x < size.width && y < size.height
    }

    /// The cell at (x, y); reading outside the grid gives a blank cell, writing there does nothing,
    /// so drawing code can clip by simply writing.
    public subscript(x: Int, y: Int) -> Cell {
        get { contains(x: x, y: y) ? cells[y * size.width + x] : .blank }
        set { set(newValue, x: x, y: y) }
    }

    /// Writes one cell, keeping wide graphemes whole: overwriting either half of a wide grapheme
    /// blanks the other half, so the terminal never gets half a character.
    public mutating func set(_ cell: Cell, x: Int, y: Int) {
        guard contains(x: x, y: y) else { return }
        let i = y * size.width + x
        if cells[i].isContinuation, x > 0 {
            cells[i - 1] = Cell(" ", style: cells[i - 1].style)
        }
        if x + 1 < size.width, cells[i + 1].isContinuation, !cell.isContinuation {
            cells[i + 1] = Cell(" ", style: cells[i + 1].style)
        }
        cells[i] = cell
    }

    /// The rows as arrays, for the terminal's diff.
    public func row(_ y: Int) -> ArraySlice<Cell> {
        cells[(y * size.width)..<((y + 1) * size.width)]
    }
}
