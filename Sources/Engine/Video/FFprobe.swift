import Foundation

/// Reads a video's frame size, rate and frame count with `ffprobe`, before any frame is decoded.
enum FFprobe {
    struct Stream {
        var width: Int
        var height: Int
        var fps: Double
        var frameCount: Int?
        var frameCountIsExact: Bool
    }

    static func probe(_ path: String, tools: FFmpegTools, timeout: Double) throws -> Stream {
        let arguments = [
            "-v", "error", "-select_streams", "v:0",
            "-show_entries",
            "stream=codec_type,width,height,avg_frame_rate,r_frame_rate,nb_frames,duration:stream_tags=rotate:stream_side_data=rotation:format=duration",
            "-of", "json", path,
        ]
        let child: Subprocess
        do {
            child = try Subprocess(executable: tools.ffprobe, arguments: arguments, readOutput: true, writeInput: false)
        } catch {
            throw LinstoryError(.tool, file: path, "cannot run ffprobe: \(error)")
        }
        var json = [UInt8](repeating: 0, count: 1 << 16)
        var count = 0
        do {
            while true {
                if count == json.count { json += [UInt8](repeating: 0, count: json.count) }
                let n = try json.withUnsafeMutableBytes { try child.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[count...]), timeout: timeout) }
                count += n
                if count < json.count { break }
            }
        } catch Subprocess.Failure.stalled(let seconds) {
            throw LinstoryError(.tool, file: path, "ffprobe stalled for \(secondsText(seconds)) s and was stopped")
        }
        let exit = child.finish(timeout: timeout)
        guard exit.succeeded else {
            let why = exit.lastMessage(strippingPath: path) ?? "ffprobe failed with status \(exit.status)"
            throw LinstoryError(.wrongFormat, file: path, "not a video ffmpeg can read (\(why))")
        }
        return try parse(Array(json[0..<count]), path: path)
    }

    static func parse(_ bytes: [UInt8], path: String) throws -> Stream {
        guard let root = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw LinstoryError(.tool, file: path, "not a video (ffprobe's answer could not be read)")
        }
        let streams = root["streams"] as? [[String: Any]] ?? []
        guard let stream = streams.first(where: { ($0["codec_type"] as? String) == "video" }) else {
            throw LinstoryError(.wrongFormat, file: path, "has no video stream")
        }
        guard var width = int(stream["width"]), var height = int(stream["height"]), width > 0, height > 0 else {
            throw LinstoryError(.wrongFormat, file: path, "not a video (its video stream has no frame size)")
        }
        // ffmpeg turns frames upright by default; a quarter turn swaps the delivered width and height.
        var rotation = double((stream["tags"] as? [String: Any])?["rotate"]) ?? 0
        for side in stream["side_data_list"] as? [[String: Any]] ?? [] {
            if let r = double(side["rotation"]) { rotation = r }
        }
        if Int(abs(rotation).rounded()) % 180 == 90 { swap(&width, &height) }

        let fps = [stream["avg_frame_rate"], stream["r_frame_rate"]].compactMap(rate).first ?? 25
        let duration = double(stream["duration"]) ?? double((root["format"] as? [String: Any])?["duration"])
        if let n = int(stream["nb_frames"]) {
            return Stream(width: width, height: height, fps: fps, frameCount: n, frameCountIsExact: true)
        }
        let estimate = duration.map { Int(($0 * fps).rounded()) }
        return Stream(width: width, height: height, fps: fps, frameCount: estimate, frameCountIsExact: false)
    }

    /// ffprobe writes numbers as JSON numbers or as strings ("202", "N/A").
    private static func int(_ value: Any?) -> Int? {
        if let v = value as? Int { return v }
        if let s = value as? String { return Int(s) }
        return nil
    }

    private static func double(_ value: Any?) -> Double? {
        if let v = value as? Double { return v }
        if let v = value as? Int { return Double(v) }
        if let s = value as? String { return Double(s) }
        return nil
    }

    /// "25/1", "30000/1001"; "0/0" means unknown.
    private static func rate(_ value: Any?) -> Double? {
        guard let s = value as? String else { return nil }
        let parts = s.split(separator: "/")
        guard let num = Double(parts.first ?? ""), num > 0 else { return nil }
        let den = parts.count > 1 ? Double(parts[1]) ?? 0 : 1
        guard den > 0 else { return nil }
        let fps = num / den
        return fps.isFinite && fps > 0 && fps < 1000 ? fps : nil
    }
}

func secondsText(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
}
