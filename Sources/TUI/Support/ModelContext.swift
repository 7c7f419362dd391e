import Engine
import Foundation

/// What the inversion commands load first: the generator and its W statistics (cached per model
/// under $XDG_CACHE_HOME/linstory, else ~/.cache/linstory).
struct ModelContext {
    let checkpoint: GeneratorCheckpoint
    let statistics: WStatistics
    var generator: Generator { checkpoint.generator }

    static var cacheFolder: String {
        let env = ProcessInfo.processInfo.environment
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return x + "/linstory" }
        return (env["HOME"] ?? NSTemporaryDirectory()) + "/.cache/linstory"
    }

    init(model: String) throws {
        checkpoint = try GeneratorCheckpoint.load(path: model)
        statistics = try WStatistics.load(
            orComputeFor: checkpoint.generator.mapping,
            cachePath: WStatistics.cachePath(folder: Self.cacheFolder, mapping: checkpoint.generator.mapping))
    }
}
