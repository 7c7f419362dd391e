import Engine
import Foundation

/// The compare table: one row per method, as text, Markdown or JSON.
enum MetricsTable {
    static func cells(_ name: String, _ m: ClipMetrics, _ seconds: Double) -> [String] {
        func f(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "-" }
        return [
            name, f(m.clip.psnr, "%.2f"), f(m.clip.ssim, "%.4f"), f(m.clip.tdr, "%.4f"), f(m.clip.s1, "%.4f"), f(m.clip.s2, "%.4f"),
            f(m.clip.heldOutPSNR, "%.2f"), f(m.transitions?.psnr, "%.2f"), String(format: "%.0f", seconds),
        ]
    }

    static let header = ["method", "PSNR dB", "SSIM", "TDR", "S1", "S2", "held-out PSNR", "transitions PSNR", "seconds"]

    static func render(_ rows: [(String, ClipMetrics, Double)]) -> String {
        let table = [header] + rows.map { cells($0.0, $0.1, $0.2) }
        let widths = header.indices.map { i in table.map { $0[i].count }.max()! }
        return table.map { row in
            row.enumerated().map { i, c in i == 0 ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[i] - c.count) + c }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func markdown(_ rows: [(String, ClipMetrics, Double)]) -> String {
        let lines = ["| " + header.joined(separator: " | ") + " |", "|" + String(repeating: " --- |", count: header.count)]
            + rows.map { "| " + cells($0.0, $0.1, $0.2).joined(separator: " | ") + " |" }
        return lines.joined(separator: "\n")
    }
}
