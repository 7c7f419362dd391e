import Engine
import Foundation

/// PyTorch reference timings, keyed by (config, batch, op), from torch_reference.py's JSON lines.
enum TorchTimings {
    struct Key: Hashable {
        var config: String
        var batch: Int
        var op: String
    }

    static func read(_ path: String) throws -> [Key: Double] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            let kind: LinstoryError.Kind = FileManager.default.fileExists(atPath: path) ? .unreadable : .notFound
            throw LinstoryError(kind, file: path, "cannot read the reference timings")
        }
        return parse(text)
    }

    /// Runs the reference (`python script --time config`) for one configuration and batch and
    /// returns its timings and JSON lines. The bench calls it right before timing linstory on the
    /// same configuration and batch, so both sides meet the same load on a shared machine.
    static func measure(python: String, script: String, config: String, batch: Int, threads: Int, reps: Int) throws -> (timings: [Key: Double], lines: [String]) {
        guard FileManager.default.fileExists(atPath: script) else { throw LinstoryError(.notFound, file: script, "no such reference script") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--time", config, "--threads", String(threads), "--batch", String(batch), "--reps", String(reps)]
        let output = Pipe()
        process.standardOutput = output
        do { try process.run() } catch { throw LinstoryError(.tool, file: python, "cannot run the PyTorch reference: \(error.localizedDescription)") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw LinstoryError(.tool, file: script, "the PyTorch reference failed on \(config) at batch \(batch) (exit \(process.terminationStatus))")
        }
        return (parse(text), text.split(separator: "\n").map(String.init))
    }

    static func parse(_ text: String) -> [Key: Double] {
        var out: [Key: Double] = [:]
        for line in text.split(separator: "\n") {
            guard let data = line.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let config = object["config"] as? String, let batch = object["batch"] as? Int,
                  let op = object["op"] as? String, let ms = object["median_ms"] as? Double
            else { continue }
            out[Key(config: config, batch: batch, op: op)] = ms
        }
        return out
    }
}

/// The human-readable bench table.
enum BenchTable {
    static func render(rows: [BenchRow], torch: [TorchTimings.Key: Double], sgemmGFLOPs: Double?, threads: Int) -> String {
        var lines: [String] = []
        lines.append("OpenBLAS core: \(BLAS.coreName) (requested \(BLAS.requestedCore.isEmpty ? "nothing" : BLAS.requestedCore)\(BLAS.coreFromEnvironment ? ", from OPENBLAS_CORETYPE" : "")), threads: \(threads)")
        if let s = sgemmGFLOPs { lines.append(String(format: "sgemm 1024^3: %.1f GFLOP/s", s)) }
        let header = ["config", "batch", "op", "linstory ms", "per frame", "CPU ms", "GFLOP/s", "of sgemm", "torch ms", "per frame", "speed-up"]
        var table: [[String]] = [header]
        for r in rows {
            let t = torch[TorchTimings.Key(config: r.config, batch: r.batch, op: r.op)]
            table.append([
                r.config, String(r.batch), r.op, String(format: "%.2f", r.median), String(format: "%.2f", r.perFrame),
                String(format: "%.2f", r.cpuMedian), String(format: "%.1f", r.gflops),
                sgemmGFLOPs.map { String(format: "%.0f%%", 100 * r.gflops / $0) } ?? "-",
                t.map { String(format: "%.2f", $0) } ?? "-",
                t.map { String(format: "%.2f", $0 / Double(r.batch)) } ?? "-",
                t.map { String(format: "%.2fx", $0 / r.median) } ?? "-",
            ])
        }
        let widths = header.indices.map { i in table.map { $0[i].count }.max()! }
        for (k, row) in table.enumerated() {
            lines.append(row.enumerated().map { i, cell in
                i < 3 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "  "))
            if k == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        return lines.joined(separator: "\n")
    }
}
