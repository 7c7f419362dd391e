/// Frames laid out in a grid on one image: a frame strip to look at a clip, or rows of target and
/// reconstructions to compare methods at a glance.
public enum ContactSheet {
    /// A grey that sets frames apart from black bars and dark footage.
    public static let background: (r: UInt8, g: UInt8, b: UInt8) = (40, 40, 40)

    /// One row per element of `rows`, cells left to right. Every cell is as large as the largest
    /// frame; smaller frames are centred in theirs. `gap` pixels of background separate cells and
    /// surround the grid.
    public static func render(rows: [[RGBImage]], gap: Int = 2) -> RGBImage {
        precondition(gap >= 0, "negative gap")
        let cells = rows.flatMap { $0 }
        let cellW = cells.map(\.width).max() ?? 0, cellH = cells.map(\.height).max() ?? 0
        let columns = rows.map(\.count).max() ?? 0
        let width = columns * cellW + (columns + 1) * gap
        let height = rows.count * cellH + (rows.count + 1) * gap
        var sheet = RGBImage(width: max(width, 1), height: max(height, 1), fill: background)
        for (r, row) in rows.enumerated() {
            for (c, frame) in row.enumerated() {
                let x = gap + c * (cellW + gap) + (cellW - frame.width) / 2
                let y = gap + r * (cellH + gap) + (cellH - frame.height) / 2
                sheet.paste(frame, x: x, y: y)
            }
        }
        return sheet
    }

    /// `frames` in reading order, `columns` to a row.
    public static func render(frames: [RGBImage], columns: Int, gap: Int = 2) -> RGBImage {
        precondition(columns > 0, "a contact sheet needs at least one column")
        let rows = stride(from: 0, to: frames.count, by: columns).map { Array(frames[$0..<min($0 + columns, frames.count)]) }
        return render(rows: rows, gap: gap)
    }

    /// Frames side by side with no outer border, as one video frame: "target | reconstruction".
    public static func sideBySide(_ frames: [RGBImage], gap: Int = 2) -> RGBImage {
        let height = frames.map(\.height).max() ?? 0
        let width = frames.map(\.width).reduce(0, +) + gap * max(frames.count - 1, 0)
        var out = RGBImage(width: max(width, 1), height: max(height, 1), fill: background)
        var x = 0
        for frame in frames {
            out.paste(frame, x: x, y: (height - frame.height) / 2)
            x += frame.width + gap
        }
        return out
    }

    /// Renders and writes a contact sheet PNG (atomically).
    public static func write(rows: [[RGBImage]], gap: Int = 2, to path: String) throws {
        try PNGFile.write(render(rows: rows, gap: gap), to: path)
    }
}
