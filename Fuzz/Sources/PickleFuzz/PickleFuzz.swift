import CFuzzDriver

/// libFuzzer entry for the restricted unpickler and the torch readers built on it. The first byte
/// picks how the rest is read, so that mutations reach every layer rather than stopping at a checksum:
/// 0: a plain pickle (NVIDIA snapshots); 1: a whole torch.save file (zip or legacy stream);
/// 2: the data.pkl of a zip archive built around it (CRCs made here) with small storages "0" to "3";
/// 3: the object pickle of a legacy stream whose header is made here.
@_cdecl("LLVMFuzzerTestOneInput")
public func pickleFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let mode = data[0] % 4
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    func exercise(_ pickle: TorchPickle) {
        for case .tensor(let t) in pickle.objects { _ = try? pickle.tensor(t, what: "tensor") }
    }
    switch mode {
    case 0:
        if let p = try? TorchPickle(pickle: bytes, name: "fuzz") { exercise(p) }
        _ = try? NetworkSnapshot(bytes: bytes, name: "fuzz")
    case 1:
        if let p = try? TorchPickle(torchSave: bytes, name: "fuzz") { exercise(p) }
        if let r = try? RosinalityCheckpoint(bytes: bytes, name: "fuzz") {
            _ = try? RosinalityCheckpoint.officialTensors(r.stateDict, file: "fuzz")
        }
    case 2:
        let storages = (0..<4).map { i in ("archive/data/\(i)", [UInt8](repeating: UInt8(i * 16 + 1), count: 4 << i)) }
        guard let zip = try? ZipArchive.archive([("archive/data.pkl", bytes)] + storages) else { return 0 }
        if let p = try? TorchPickle(torchSave: zip, name: "fuzz") { exercise(p) }
        if let r = try? RosinalityCheckpoint(bytes: zip, name: "fuzz") {
            _ = try? RosinalityCheckpoint.officialTensors(r.stateDict, file: "fuzz")
        }
    default:
        // magic, protocol 1001, an empty sys_info, then the input (object pickle, keys, data).
        let header: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E,
                               0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E, 0x80, 0x02, 0x7D, 0x2E]
        if let p = try? TorchPickle(torchSave: header + bytes, name: "fuzz") { exercise(p) }
    }
    return 0
}

/// SwiftPM links an executable target's entry point as `PickleFuzz_main` and points `main` at it; with
/// -parse-as-library there is none, so this one hands control to libFuzzer's driver.
@_cdecl("PickleFuzz_main")
public func PickleFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, pickleFuzz)
}
