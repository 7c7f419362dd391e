import Foundation
import CFuzzDriver
#if canImport(Glibc)
    import Glibc
#endif

/// libFuzzer entry for what a session folder holds and linstory reads back. The first byte picks the
/// file the rest becomes (in a per-process folder under /dev/shm, since sessions are folders):
/// 0: session.json: decoded from bytes (`SessionFolder.manifest(data:path:)`), then read and
///    opened as a folder, matched, and used the way the commands use it (window, scenes, status);
/// 1: frames/scene/000000.safetensors, read back as a saved frame (`readFrame`);
/// 2: latents/scene.safetensors, read back as the saved latents (`readLatents`);
/// 3, 4: latents for `LatentsFile.read` as `.npy` / `.npz` (num_ws 2, w_dim 3).
@_cdecl("LLVMFuzzerTestOneInput")
public func sessionFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let mode = data[0] % 5
    let bytes = Data(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let noiseNames = ["n0", "n1"]
    switch mode {
    case 0:
        guard let m = try? SessionFolder.manifest(data: bytes, path: "fuzz/session.json") else { return 0 }
        write(bytes, to: "session.json")
        guard let s = try? SessionFolder.read(folder: folder) else { preconditionFailure("read disagrees with manifest(data:)") }
        // As the commands use a session read back: the window, its scenes, each method's progress.
        _ = "\(m.first)..<\(m.first + m.count)"
        let scenes = SceneList(cuts: [SceneCut(frame: 50, fps: 25)], frames: 100)
        _ = SessionRun.localScenes(scenes, first: m.first, count: m.count)
        _ = SessionRun.sequentialStartFrames(scenes, first: m.first, count: m.count)
        for method in InversionMethod.allCases {
            let inversion = SessionRun(method: method, budget: 10, settings: InversionSettings(), lossName: "default")
            guard var record = s.manifest[method] else { continue }
            _ = record.matches(inversion, count: m.count)
            _ = record.framesDone
            for f in 0 ..< min(m.count, record.status.utf8.count, 64) { _ = record.isDone(f) }
            record.setDone(Array(0 ..< min(max(m.count, 0), 64)), true)
        }
        if var opened = try? SessionFolder.open(folder: folder, fresh: fresh) {
            try? opened.save()
        }
    case 1:
        write(bytes, to: "frames/scene/000000.safetensors")
        if let f = s.readFrame(index: 0, method: .scene, noiseNames: noiseNames) {
            _ = (f.ws.shape, f.noise?.map(\.shape), f.lossHistory.count, f.finalLoss, f.evaluations, f.segment)
        }
    case 2:
        write(bytes, to: "latents/scene.safetensors")
        if let frames = try? s.readLatents(method: .scene, noiseNames: noiseNames) {
            for f in frames { _ = (f.ws.shape, f.noise?.map(\.shape), f.segment) }
        }
    default:
        let name = mode == 3 ? "latents.npy" : "latents.npz"
        write(bytes, to: name)
        if let ws = try? LatentsFile.read(path: folder + "/" + name, numWs: 2, wDim: 3) {
            precondition(ws.rank == 3 && ws.shape[1] == 2 && ws.shape[2] == 3, "LatentsFile.read returned \(ws.shape)")
        }
    }
    return 0
}

private let folder: String = {
    let f = "/dev/shm/linstory-fuzz-session-\(getpid())"
    for sub in ["frames/scene", "latents"] {
        try? FileManager.default.createDirectory(atPath: f + "/" + sub, withIntermediateDirectories: true)
    }
    return f
}()

/// A session over that folder (modes 1 and 2 read only its frame and latents files).
private let s = SessionFolder(folder: folder, manifest: fresh)

/// What `open` is asked for: the video, model and window the seeds' session.json record.
private let fresh: SessionFolder.Manifest = {
    var m = SessionFolder.Manifest(
        video: identity(#"{"path": "/clips/v.mp4", "bytes": 1000, "hash": "00000000000000aa"}"#),
        model: identity(#"{"path": "/models/g.pkl", "bytes": 2000, "hash": "00000000000000bb"}"#),
        resolution: 256, fit: "center-crop", fps: 25, videoFrames: 100, first: 0, count: 10)
    m.methods = [:]
    return m
}()

private func identity(_ json: String) -> FileIdentity { try! JSONDecoder().decode(FileIdentity.self, from: Data(json.utf8)) }

private func write(_ bytes: Data, to name: String) {
    guard let file = fopen(folder + "/" + name, "wb") else { return }
    bytes.withUnsafeBytes { if let base = $0.baseAddress, !$0.isEmpty { fwrite(base, 1, $0.count, file) } }
    fclose(file)
}

/// SwiftPM links an executable target's entry point as `SessionFuzz_main` and points `main` at it; with
/// -parse-as-library there is none, so this one hands control to libFuzzer's driver.
@_cdecl("SessionFuzz_main")
public func SessionFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, sessionFuzz)
}
