import CFuzzDriver
#if canImport(Glibc)
    import Glibc
#endif

/// libFuzzer entry for cut lists: linstory's JSON and PySceneDetect's `list-scenes` CSV (told apart by
/// content, as `CutList.read` does), and the timecodes in them. The input is written to a file in
/// /dev/shm (the reader takes a path) and read; the first byte picks what the reader is told of the
/// video (bit 0: fps 25, bit 1: 202 frames). A list that reads is then used as the commands use it:
/// its scenes, and written back in both formats and read again. Every comma-separated field of the
/// text also goes through `Timecode.seconds`.
@_cdecl("LLVMFuzzerTestOneInput")
public func cutListFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let mode = data[0]
    let bytes = UnsafeBufferPointer(start: data + 1, count: size - 1)
    let path = "/dev/shm/linstory-fuzz-\(getpid()).cuts"
    write(Array(bytes), to: path)
    let fps: Double? = mode & 1 == 1 ? 25 : nil
    let frames: Int? = mode & 2 == 2 ? 202 : nil
    if let list = try? CutList.read(path: path, fps: fps, frames: frames) {
        let scenes = list.scenes
        for frame in [0, list.frames / 2, list.frames - 1] { _ = scenes.isInTransition(frame) }
        for format in CutList.Format.allCases {
            let text = list.encoded(as: format)
            write(Array(text.utf8), to: path)
            _ = try? CutList.read(path: path, fps: format == .csv ? list.fps : nil)
        }
    }
    for field in String(decoding: bytes, as: UTF8.self).split(separator: ",").prefix(64) {
        if let s = Timecode.seconds(String(field)) { _ = Timecode.string(seconds: s) }
    }
    return 0
}

private func write(_ bytes: [UInt8], to path: String) {
    guard let file = fopen(path, "wb") else { return }
    if !bytes.isEmpty { fwrite(bytes, 1, bytes.count, file) }
    fclose(file)
}

/// SwiftPM links an executable target's entry point as `CutListFuzz_main` and points `main` at it; with
/// -parse-as-library there is none, so this one hands control to libFuzzer's driver.
@_cdecl("CutListFuzz_main")
public func CutListFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, cutListFuzz)
}
