// A tuned scene as a safetensors file: every factor and delta as F32 under the parameter's official
// name and a suffix (".lora_up" [O, r], ".lora_down" [r, ...], ".delta"), the model's hash and the
// notes in `__metadata__`. Written atomically (`SafeTensorsWriter`, `AtomicFile`).

extension TunedScene {
    /// `__metadata__.format` of a tuned scene's file.
    public static let fileFormat = "linstory tuned scene v1"
    static let hashKey = "model_synthesis_hash"
    static let upSuffix = ".lora_up"
    static let downSuffix = ".lora_down"
    static let deltaSuffix = ".delta"
    /// After a noise buffer's name: "synthesis.b64.conv1.noise_const.offset" [R, R].
    static let offsetSuffix = ".offset"

    /// (name, tensor) as the file holds them.
    var fileTensors: [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        for (name, d) in lowRank { out += [(name + Self.upSuffix, d.up), (name + Self.downSuffix, d.down)] }
        for (name, t) in dense { out.append((name + Self.deltaSuffix, t)) }
        for (name, t) in noiseOffsets { out.append((name + Self.offsetSuffix, t)) }
        return out.sorted { $0.0 < $1.0 }
    }

    var fileMetadata: [String: String] {
        var m = notes
        m["format"] = Self.fileFormat
        m[Self.hashKey] = modelHash
        return m
    }

    /// Writes the scene to `path` atomically: a reader sees the old file or the whole new one.
    public func write(to path: String) throws {
        try SafeTensorsWriter.write(fileTensors, metadata: fileMetadata, to: path)
    }

    /// The size of the file `write(to:)` makes, in bytes (header included).
    public var byteCount: Int {
        // Only names and shapes decide the layout, so this cannot fail for tensors this type holds.
        let layout = try! SafeTensorsWriter.layout(fileTensors.map { (name: $0.0, shape: $0.1.shape) }, metadata: fileMetadata, path: source)
        return layout.head.count + layout.dataSize
    }

    /// Reads a file `write(to:)` wrote, checking its format, names, shapes and values. Whether the
    /// deltas fit a model is checked when they are applied (`apply(to:)`).
    public init(path: String) throws {
        let file = try SafeTensorsFile(path: path)
        guard file.metadata["format"] == Self.fileFormat else {
            let found = file.metadata["format"].map { "'\($0)'" } ?? "none"
            throw LinstoryError(.wrongFormat, file: path, "not a tuned scene (metadata 'format' is \(found), expected '\(Self.fileFormat)')")
        }
        guard let hash = file.metadata[Self.hashKey] else {
            throw LinstoryError(.corrupt, file: path, "metadata '\(Self.hashKey)' is missing")
        }
        var lowRank: [String: LowRankDelta] = [:]
        var dense: [String: Tensor] = [:]
        var noiseOffsets: [String: Tensor] = [:]
        for key in file.names {
            let t = try file.tensor(key)
            if let bad = t.withUnsafeBufferPointer({ $0.firstIndex { !$0.isFinite } }) {
                throw LinstoryError(.corrupt, file: path, "tensor '\(key)' holds \(t[flat: bad]) at index \(bad)")
            }
            if key.hasSuffix(Self.deltaSuffix) {
                dense[String(key.dropLast(Self.deltaSuffix.count))] = t
            } else if key.hasSuffix(".noise_const" + Self.offsetSuffix) {
                noiseOffsets[String(key.dropLast(Self.offsetSuffix.count))] = t
            } else if key.hasSuffix(Self.upSuffix) {
                let name = String(key.dropLast(Self.upSuffix.count))
                let downKey = name + Self.downSuffix
                guard file.entries[downKey] != nil else { throw LinstoryError(.corrupt, file: path, "tensor '\(key)' has no '\(downKey)'") }
                let down = try file.tensor(downKey)
                guard t.rank == 2, down.rank >= 2, down.shape[0] == t.shape[1] else {
                    throw LinstoryError(.corrupt, file: path, "tensors '\(key)' \(t.shape) and '\(downKey)' \(down.shape) are not low-rank factors of one weight")
                }
                lowRank[name] = LowRankDelta(up: t, down: down)
            } else if key.hasSuffix(Self.downSuffix) {
                let upKey = String(key.dropLast(Self.downSuffix.count)) + Self.upSuffix
                guard file.entries[upKey] != nil else { throw LinstoryError(.corrupt, file: path, "tensor '\(key)' has no '\(upKey)'") }
            } else {
                throw LinstoryError(.corrupt, file: path, "unexpected tensor '\(key)' (a tuned scene holds *.delta, *.lora_up, *.lora_down and *.noise_const.offset)")
            }
        }
        if let both = Set(lowRank.keys).intersection(dense.keys).sorted().first {
            throw LinstoryError(.corrupt, file: path, "'\(both)' has both a delta and low-rank factors")
        }
        var notes = file.metadata
        notes["format"] = nil
        notes[Self.hashKey] = nil
        self.init(lowRank: lowRank, dense: dense, noiseOffsets: noiseOffsets, modelHash: hash, notes: notes, source: path)
    }
}
