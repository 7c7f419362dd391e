import Engine
import Foundation

/// The compare table: one row per method (and loss), as text, Markdown or JSON.
enum MetricsTable {
    /// One row: the method, the loss it optimised (shown when a table compares losses), its metrics.
    struct Row {
        var method: String
        var loss: String
        var metrics: ClipMetrics
        var seconds: Double
    }

    /// Which optional columns a table has: the loss (when rows differ in it) and LPIPS (when measured).
    struct Columns {
        var loss: Bool
        var lpips: Bool

        init(_ rows: [Row]) {
            loss = Set(rows.map(\.loss)).count > 1
            lpips = rows.contains { $0.metrics.clip.lpips != nil }
        }
    }

    static func header(_ c: Columns) -> [String] {
        ["method"] + (c.loss ? ["loss"] : []) + ["PSNR dB", "SSIM"] + (c.lpips ? ["LPIPS"] : [])
            + ["TDR", "S1", "S2", "held-out PSNR", "transitions PSNR", "seconds"]
    }

    static func cells(_ row: Row, _ c: Columns) -> [String] {
        func f(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "-" }
        let m = row.metrics
        return [row.method] + (c.loss ? [row.loss] : []) + [f(m.clip.psnr, "%.2f"), f(m.clip.ssim, "%.4f")]
            + (c.lpips ? [f(m.clip.lpips, "%.4f")] : [])
            + [
                f(m.clip.tdr, "%.4f"), f(m.clip.s1, "%.4f"), f(m.clip.s2, "%.4f"), f(m.clip.heldOutPSNR, "%.2f"), f(m.transitions?.psnr, "%.2f"),
                String(format: "%.0f", row.seconds),
            ]
    }

    static func render(_ rows: [(String, ClipMetrics, Double)]) -> String {
        render(rows.map { Row(method: $0.0, loss: "", metrics: $0.1, seconds: $0.2) })
    }

    static func render(_ rows: [Row]) -> String {
        let c = Columns(rows)
        let head = header(c)
        let table = [head] + rows.map { cells($0, c) }
        let widths = head.indices.map { i in table.map { $0[i].count }.max()! }
        return table.map { row in
            row.enumerated().map { i, cell in
                i == 0 || (c.loss && i == 1)
                    ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[i] - cell.count) + cell
            }
            .joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func markdown(_ rows: [Row]) -> String {
        let c = Columns(rows)
        let head = header(c)
        let lines = ["| " + head.joined(separator: " | ") + " |", "|" + String(repeating: " --- |", count: head.count)]
            + rows.map { "| " + cells($0, c).joined(separator: " | ") + " |" }
        return lines.joined(separator: "\n")
    }
}
