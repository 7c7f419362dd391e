/// `.npz` files: a ZIP archive of `.npy` members, as `np.savez` and `np.savez_compressed` write.
///
/// Keys are member names without the `.npy` suffix, as `np.load(path)[key]` uses them. Members
/// that are not `.npy` files are skipped (numpy would hand them back as raw bytes). The official
/// StyleGAN2 projector writes `projected_w.npz` with one key, `w`: shape [1, num_ws, w_dim],
/// float32; `write` produces the same layout (stored `NAME.npy` members, `<f4`).
public enum NpzArchive {
    /// Every array in the `.npz` at `path`, converted to float32 tensors.
    public static func read(path: String) throws -> [String: Tensor] {
        try readArrays(path: path).mapValues { $0.tensor() }
    }

    /// Every array in `.npz` bytes; `name` (usually the path) prefixes every error.
    public static func read(data: [UInt8], name: String) throws -> [String: Tensor] {
        try readArrays(data: data, name: name).mapValues { $0.tensor() }
    }

    /// Every array in the `.npz` at `path`, parsed but not converted (dtype and exact values kept).
    public static func readArrays(path: String) throws -> [String: NpyArray] {
        try readArrays(data: AtomicFile.read(path), name: path)
    }

    public static func readArrays(data: [UInt8], name: String) throws -> [String: NpyArray] {
        let zip: ZipArchive
        do {
            zip = try ZipArchive(data: data, name: name)
        } catch let error as LinstoryError where error.kind == .wrongFormat {
            throw LinstoryError(.wrongFormat, file: name, "not an .npz file (not a zip archive)")
        }
        var arrays = [String: NpyArray]()
        for entry in zip.entries where entry.name.hasSuffix(".npy") && !entry.isDirectory {
            let key = String(entry.name.dropLast(4))
            guard arrays[key] == nil else { continue }  // a duplicate name: the directory's last one wins
            arrays[key] = try NpyArray(bytes: zip.data(for: entry.name), name: "\(name): \(entry.name)")
        }
        return arrays
    }

    /// `arrays` as `.npz` bytes in `np.savez` layout: stored, uncompressed `KEY.npy` members.
    public static func encode(_ arrays: [(String, Tensor)]) throws -> [UInt8] {
        try ZipArchive.archive(arrays.map { (name: $0.0 + ".npy", bytes: NpyArray.encode($0.1)) })
    }

    /// Writes `arrays` to `path` as an `.npz` (see `encode`), atomically (see `AtomicFile`).
    public static func write(_ arrays: [(String, Tensor)], to path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try encode(arrays)
        } catch let error as LinstoryError {
            throw error.about(file: path)
        }
        try AtomicFile.write(bytes, to: path)
    }
}
