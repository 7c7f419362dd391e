import ArgumentParser
import Engine
import Foundation

/// How `invert` and `compare` open their session: `SessionPreparation.prepare` with the decode's
/// progress on the terminal or in the log, and Ctrl-C stopping the decode at once (exit 130, one
/// line, nothing left behind). Call after `Interrupt.install()`.
enum CommandSession {
    static func prepare(
        video: String, model: String, out: String, resolution: Int, fit: FitPolicy = .centerCrop, window: Range<Int>?, cutsFile: String?
    ) throws -> SessionPreparation {
        let decoding = LazyProgress(label: "decode", unit: "frames")
        do {
            let prepared = try SessionPreparation.prepare(
                video: video, model: model, folder: out, resolution: resolution, fit: fit, window: window, cutsFile: cutsFile,
                decodeProgress: { seen, total in
                    decoding.update(seen, total)
                    if Interrupt.requested { throw InversionCancelled() }
                })
            decoding.finish()
            return prepared
        } catch is InversionCancelled {
            decoding.finish()
            FileHandle.standardError.write("interrupted while decoding the video; nothing was inverted yet\n".data(using: .utf8)!)
            throw ExitCode(130)
        } catch {
            decoding.finish()
            throw error
        }
    }

    /// The targets a session's frame store holds (made when the session was), refusing a store
    /// that is not the session's window.
    static func storedTargets(_ s: SessionFolder, channels: Int) throws -> StoredTargets {
        let m = s.manifest
        let storePath = SessionPreparation.storePath(folder: s.folder, resolution: m.resolution, fit: FitPolicy(rawValue: m.fit) ?? .centerCrop)
        let store = try TargetStore(path: storePath)
        guard store.count == m.count, store.header.first == m.first else {
            throw LinstoryError(.mismatch, file: storePath, "the frame store holds frames \(store.header.first)..<\(store.header.first + store.count), not the session's \(m.first)..<\(m.first + m.count)")
        }
        return StoredTargets(store: store, channels: channels)
    }
}
