import ArgumentParser
import Engine
import Foundation

/// `linstory status SESSION`: how far each method is, per shard when workers fill the session, and
/// what is left, read from the session's files (nothing is computed or written).
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "How far a session is: frames saved per method and shard, failed shards, what remains.",
        discussion: """
            Reads the frame files and the workers' status files (shards/METHOD/I-of-N.json), so it is
            right while workers are still writing. A running shard with no word for 5 minutes, or whose
            process is gone from this machine, shows as stalled. --json prints the same as JSON.
            """)

    @Argument(help: "A session folder.") var session: String
    @Option(help: "Only this method.") var method: InversionMethod?
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() throws {
        let s = try SessionFolder.read(folder: session)
        let scenes = try s.cutList().scenes
        var progress = SessionProgress.measure(session: s, scenes: scenes)
        if let method { progress.methods = progress.methods.filter { $0.method == method.rawValue } }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(progress), as: UTF8.self))
            return
        }
        print(Self.text(progress))
    }

    static func text(_ p: SessionProgress, now: Date = Date()) -> String {
        var lines = ["session \(p.session): \(p.video), frames \(p.first)-\(p.first + p.frames - 1) (\(p.frames)), \(p.scenes) scenes"]
        if p.methods.isEmpty { lines.append("no inversion recorded yet") }
        for m in p.methods {
            let percent = p.frames > 0 ? 100 * m.done / p.frames : 100
            let state = m.finalized ? "finalized" : m.done == m.frames ? "all frames saved, not finalized" : "\(percent)%"
            lines.append("\(m.method) (budget \(m.budget), \(m.space), loss \(m.loss)): \(m.done)/\(m.frames) frames saved, \(state)")
            for sh in m.shards {
                let range = sh.firstFrame.map { "frames \($0)-\(sh.lastFrame ?? $0)" } ?? "no frames"
                var detail: [String] = []
                if let job = sh.job { detail.append("job \(job)") }
                if let host = sh.host { detail.append(host) }
                if let u = sh.updated { detail.append("updated \(Self.ago(now.timeIntervalSince(u))) ago") }
                if let message = sh.message, sh.state != "complete" { detail.append(message) }
                func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
                let counts = String(repeating: " ", count: max(0, 7 - "\(sh.done)".count)) + "\(sh.done)/\(sh.frames)"
                let line = "  shard " + pad(sh.shard, 6) + pad(range, 22) + pad(counts, 15) + pad(sh.state, 12)
                    + (detail.isEmpty ? "" : "(" + detail.joined(separator: ", ") + ")")
                lines.append(line.replacingOccurrences(of: " +$", with: "", options: .regularExpression))
            }
            if m.done < m.frames { lines.append("  missing: frames \(m.missing)") }
            if !m.incompleteShards.isEmpty, let n = m.shards.first?.count {
                lines.append("  not complete: shards \(m.incompleteShards.map(String.init).joined(separator: ",")) of \(n)")
            }
            if !m.finalized && m.done == m.frames {
                lines.append("  next: linstory finalize \(p.session) --method \(m.method)")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func ago(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        if s < 120 { return "\(s) s" }
        if s < 7200 { return "\(s / 60) min" }
        return "\(s / 3600) h"
    }
}
