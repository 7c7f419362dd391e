import CFuzzDriver
#if canImport(Glibc)
    import Glibc
#endif

/// libFuzzer entry for the safetensors reader: the input is written to a file in /dev/shm (the
/// reader's only entry point takes a path), opened, and every tensor read, checked and, when the
/// names allow, built into a generator.
@_cdecl("LLVMFuzzerTestOneInput")
public func safeTensorsFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let path = "/dev/shm/linstory-fuzz-\(getpid()).safetensors"
    guard let file = fopen(path, "wb") else { return 0 }
    if let data, size > 0 { fwrite(data, 1, size, file) }
    fclose(file)
    guard let st = try? SafeTensorsFile(path: path) else { return 0 }
    var tensors: [String: Tensor] = [:]
    for name in st.names {
        _ = try? st.rawBytes(name)
        _ = try? st.validateFinite(name)
        if let t = try? st.tensor(name) { tensors[name] = t }
    }
    if tensors.count < 200 { _ = try? GeneratorLoader.build(tensors: tensors, convClamp: nil, file: path) }
    return 0
}

/// SwiftPM links an executable target's entry point as `SafeTensorsFuzz_main` and points `main` at it; with
/// -parse-as-library there is none, so this one hands control to libFuzzer's driver.
@_cdecl("SafeTensorsFuzz_main")
public func SafeTensorsFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, safeTensorsFuzz)
}
