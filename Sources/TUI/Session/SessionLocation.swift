import Engine
import Foundation

/// Where the UI finds the bundled model and clip, and where it keeps sessions by default.
enum SessionLocation {
    /// The user's data folder for linstory: $XDG_DATA_HOME/linstory, else ~/.local/share/linstory.
    static var dataFolder: String {
        let env = ProcessInfo.processInfo.environment
        if let x = env["XDG_DATA_HOME"], !x.isEmpty { return x + "/linstory" }
        return (env["HOME"] ?? NSTemporaryDirectory()) + "/.local/share/linstory"
    }

    /// The default session for a video and model: named after both and their contents, so
    /// reopening the same pair resumes it and another pair never collides with it.
    static func defaultSession(video: FileIdentity, model: FileIdentity) -> String {
        func stem(_ path: String) -> String {
            let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            return String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        }
        return "\(dataFolder)/sessions/\(stem(video.path))-\(video.hash.prefix(8))--\(stem(model.path))-\(model.hash.prefix(8))"
    }

    /// The repository's assets folder: $LINSTORY_ASSETS, else `assets` beside or above the
    /// executable (a build lives in .build/<config>/), else ./assets.
    static var assetsFolder: String {
        let env = ProcessInfo.processInfo.environment
        if let a = env["LINSTORY_ASSETS"], !a.isEmpty { return a }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = dir.appendingPathComponent("assets")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent(bundledModelName).path) { return candidate.path }
            dir = dir.deletingLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath + "/assets"
    }

    static let bundledModelName = "bbb64.safetensors"
    static let bundledClipName = "bbb-cuts.mp4"
    static var bundledModel: String { assetsFolder + "/" + bundledModelName }
    static var bundledClip: String { assetsFolder + "/" + bundledClipName }
}
