#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The kinds of generator file linstory reads, told apart by their first bytes rather than their
/// names (people rename checkpoints): a zip or a legacy torch stream is a `torch.save` file, any other
/// pickle an NVIDIA snapshot, and everything else is taken for safetensors (which has no magic).
public enum CheckpointFormat: String, Sendable {
    case safetensors
    case nvidiaPickle = "NVIDIA pickle"
    case torchSave = "torch.save"

    public static func of(path: String) throws -> CheckpointFormat {
        guard let file = fopen(path, "rb") else {
            let code = errno
            throw LinstoryError(
                code == ENOENT || code == ENOTDIR ? .notFound : .unreadable, file: path, "cannot open: \(String(cString: strerror(code)))")
        }
        defer { fclose(file) }
        var head = [UInt8](repeating: 0, count: 16)
        let n = fread(&head, 1, head.count, file)
        return of(prefix: Array(head.prefix(n)))
    }

    public static func of(prefix head: [UInt8]) -> CheckpointFormat {
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || TorchLegacyStream.looksLike(head[...]) { return .torchSave }
        // A pickle of protocol 2 or later opens with PROTO; a safetensors header length's low byte is
        // 0x80 only for lengths that also need a '{' at byte 8, which no pickle has there.
        if head.count >= 2, head[0] == 0x80, (2...5).contains(head[1]), !(head.count > 8 && head[8] == UInt8(ascii: "{")) {
            return .nvidiaPickle
        }
        return .safetensors
    }
}
