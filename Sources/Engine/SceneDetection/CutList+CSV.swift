import Foundation

extension CutList {
    static let csvHeader = [
        "Scene Number", "Start Frame", "Start Timecode", "Start Time (seconds)", "End Frame", "End Timecode",
        "End Time (seconds)", "Length (frames)", "Length (timecode)", "Length (seconds)",
    ]

    /// The file PySceneDetect 0.7's `list-scenes` writes: a row of cut timecodes, the header, then one
    /// row per scene with 1-based frame numbers (a scene's End Frame is its last frame, 1-based, and
    /// its end time the start of the next). With no cuts the first row is empty, as theirs is.
    func csv() -> String {
        var rows: [String] = []
        rows.append(cuts.isEmpty ? "" : (["Timecode List:"] + cuts.map { Timecode.string(frame: $0.frame, fps: fps) }).joined(separator: ","))
        rows.append(Self.csvHeader.joined(separator: ","))
        for scene in scenes.scenes {
            let start = scene.frames.lowerBound, end = scene.frames.upperBound, length = end - start
            rows.append([
                "\(scene.index + 1)", "\(start + 1)", Timecode.string(frame: start, fps: fps), seconds(start),
                "\(end)", Timecode.string(frame: end, fps: fps), seconds(end),
                "\(length)", Timecode.string(frame: length, fps: fps), seconds(length),
            ].joined(separator: ","))
        }
        return rows.joined(separator: "\n") + "\n"
    }

    private func seconds(_ frame: Int) -> String { String(format: "%.3f", Double(frame) / fps) }

    /// Reads the scenes' start frames back as hard cuts. Columns are found by their header names;
    /// the timecode row is optional (PySceneDetect's `--skip-cuts` leaves it out).
    static func parseCSV(_ text: String, path: String, fps: Double?, frames: Int?) throws -> CutList {
        let rows = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
        guard let headerAt = rows.firstIndex(where: { $0.first == "Scene Number" }) else {
            throw LinstoryError(.wrongFormat, file: path, "not a cut list: neither JSON nor a PySceneDetect scene list (no \"Scene Number\" header)")
        }
        let header = rows[headerAt]
        func column(_ name: String) throws -> Int {
            guard let i = header.firstIndex(of: name) else { throw LinstoryError(.corrupt, file: path, "scene list has no \"\(name)\" column") }
            return i
        }
        let startFrame = try column("Start Frame"), endFrame = try column("End Frame")
        let endSeconds = header.firstIndex(of: "End Time (seconds)")
        var starts: [Int] = []
        var lastEnd = 0
        var rate = fps
        for (k, row) in rows[(headerAt + 1)...].enumerated() where !row.allSatisfy(\.isEmpty) {
            let line = headerAt + k + 2
            guard row.count > max(startFrame, endFrame), let s = Int(row[startFrame]), let e = Int(row[endFrame]), s >= 1, e >= s - 1 else {
                throw LinstoryError(.corrupt, file: path, "line \(line): cannot read the scene's start and end frames")
            }
            starts.append(s - 1)
            lastEnd = e
            if rate == nil, let i = endSeconds, i < row.count, let t = Double(row[i]), t > 0 { rate = Double(e) / t }
        }
        guard var rate else { throw LinstoryError(.corrupt, file: path, "scene list gives no frame rate and none was given") }
        // Times are written to the millisecond, so a rate read from them is only close: snap it to
        // the usual rates it is close to (25, 30000/1001...).
        if fps == nil, let usual = [23.976, 24, 25, 29.97, 30, 48, 50, 59.94, 60].first(where: { abs($0 - rate) < 0.01 }) {
            rate = usual == 23.976 ? 24000.0 / 1001 : usual == 29.97 ? 30000.0 / 1001 : usual == 59.94 ? 60000.0 / 1001 : usual
        }
        let cuts = starts.dropFirst().map { SceneCut(frame: $0, fps: rate) }
        return CutList(frames: frames ?? lastEnd, fps: rate, cuts: cuts)
    }
}
