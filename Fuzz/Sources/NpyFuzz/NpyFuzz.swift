import CFuzzDriver
/// libFuzzer entry for the `.npy` and `.npz` readers. The first byte picks how the rest is read:
/// 0: a `.npy` file (header dict, dtypes, byte orders, shapes, fortran order, versions 1-3), parsed
///    and converted both ways; 1: an `.npz` archive as it is (the zip layer, CRCs and all, then every
///    member); 2: a `.npy` file stored in an `.npz` the harness builds around it, next to a valid
///    member, so that mutations of the member reach the `.npz` path past the CRC check.
@_cdecl("LLVMFuzzerTestOneInput")
public func npyFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let mode = data[0] % 3
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    func exercise(_ array: NpyArray) {
        // Cheap enough to convert whatever parsed: the reader checked the data is all there.
        guard array.count <= 1 << 20 else { return }
        let t = array.tensor()
        precondition(t.shape == array.shape && t.count == array.count, "tensor() disagrees with the header")
        precondition(array.doubles().count == array.count, "doubles() disagrees with the header")
    }
    switch mode {
    case 0:
        if let a = try? NpyArray(bytes: bytes, name: "fuzz.npy") { exercise(a) }
        _ = try? NpyArray.decode(bytes, name: "fuzz.npy")
    case 1:
        if let arrays = try? NpzArchive.readArrays(data: bytes, name: "fuzz.npz") { arrays.values.forEach(exercise) }
        _ = try? NpzArchive.read(data: bytes, name: "fuzz.npz")
    default:
        let other = NpyArray.encode(Tensor(shape: [2], values: [1, 2]))
        guard let npz = try? ZipArchive.archive([("other.npy", other), ("w.npy", bytes)]) else { return 0 }
        if let arrays = try? NpzArchive.readArrays(data: npz, name: "fuzz.npz") { arrays.values.forEach(exercise) }
        _ = try? NpzArchive.read(data: npz, name: "fuzz.npz")
    }
    return 0
}

/// SwiftPM links an executable target's entry point as `NpyFuzz_main` and points `main` at it; with
/// -parse-as-library there is none, so this one hands control to libFuzzer's driver.
@_cdecl("NpyFuzz_main")
public func NpyFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, npyFuzz)
}
