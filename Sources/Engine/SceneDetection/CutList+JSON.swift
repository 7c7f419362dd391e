import Foundation

extension CutList {
    /// `{"frames": N, "fps": F, "cuts": [{"frame": i, "time": s, "kind": "cut", "score": x, "span": [a, b]}]}`,
    /// one cut per line so that hand edits and diffs stay readable.
    func json() -> String {
        let lines = cuts.map { c in
            #"    {"frame": \#(c.frame), "time": \#(number(c.time)), "kind": "\#(c.kind.rawValue)", "score": \#(number(c.score)), "span": [\#(c.span.lowerBound), \#(c.span.upperBound)]}"#
        }
        let body = lines.isEmpty ? "[]" : "[\n" + lines.joined(separator: ",\n") + "\n  ]"
        return "{\n  \"frames\": \(frames),\n  \"fps\": \(number(fps)),\n  \"cuts\": \(body)\n}\n"
    }

    /// Shortest text that reads back as the same number; integers without ".0".
    private func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)"
    }

    private struct File: Decodable {
        var frames: Int?
        var fps: Double?
        var cuts: [Cut]
    }

    /// Only `frame` is required, so a hand-written `{"cuts": [{"frame": 24}]}` is a valid list.
    private struct Cut: Decodable {
        var frame: Int
        var time: Double?
        var kind: String?
        var score: Double?
        var span: [Int]?
    }

    static func parseJSON(_ text: String, path: String, fps: Double?, frames: Int?) throws -> CutList {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(text.utf8))
        } catch let DecodingError.keyNotFound(key, context) {
            throw LinstoryError(.wrongFormat, file: path, "not a cut list: \(location(context.codingPath))missing \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, context) {
            throw LinstoryError(.wrongFormat, file: path, "not a cut list: \(location(context.codingPath))\(context.debugDescription)")
        } catch {
            throw LinstoryError(.wrongFormat, file: path, "not a cut list: invalid JSON")
        }
        guard let rate = file.fps ?? fps else { throw LinstoryError(.corrupt, file: path, "cut list gives no \"fps\"") }
        guard let count = file.frames ?? frames else { throw LinstoryError(.corrupt, file: path, "cut list gives no \"frames\"") }
        var cuts: [SceneCut] = []
        for c in file.cuts {
            guard let kind = TransitionKind(rawValue: c.kind ?? "cut") else {
                throw LinstoryError(.unsupported, file: path, "cut at frame \(c.frame): kind \"\(c.kind ?? "")\" is not cut, dissolve or fade")
            }
            var span = c.frame...c.frame
            if let s = c.span {
                guard s.count == 2, s[0] <= s[1] else { throw LinstoryError(.corrupt, file: path, "cut at frame \(c.frame): span must be [first, last]") }
                span = s[0]...s[1]
            }
            cuts.append(SceneCut(frame: c.frame, time: c.time ?? Double(c.frame) / rate, kind: kind, score: c.score ?? 0, span: span))
        }
        return CutList(frames: count, fps: rate, cuts: cuts)
    }

    private static func location(_ path: [CodingKey]) -> String {
        let text = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return text.isEmpty ? "" : "at \(text): "
    }
}
