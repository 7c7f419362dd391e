import Foundation

/// A finished method's assembled latents, `latents/METHOD.safetensors`, read a frame at a time:
/// w [N, num_ws, w_dim], noise/<layer> [N, R, R] when noise was optimised, final_loss [N] (absent in
/// sessions written before it existed), and metadata "segments" ("A-B,...", video numbering) for the
/// scene method's lines. Only the header is read on open, so a film's latents cost nothing to open.
public final class SessionLatents: Sendable {
    public let path: String
    /// Frames in the file (window order).
    public let count: Int
    /// The scene method's segments, video numbering (empty for per-frame methods).
    public let segments: [ClosedRange<Int>]
    private let file: SafeTensorsRows
    private let noiseNames: [String]?
    private let hasFinalLoss: Bool
    private let first: Int

    /// `first`: the window's first video frame (frame i is video frame first + i).
    public init(path: String, noiseNames: [String], first: Int) throws {
        let file = try SafeTensorsRows(path: path)
        guard let w = file.entries["w"], w.shape.count == 3 else {
            let shape = file.entries["w"].map { "\($0.shape)" } ?? "none"
            throw LinstoryError(.corrupt, file: path, "tensor 'w' has shape \(shape), expected [N, num_ws, w_dim]")
        }
        let n = w.shape[0]
        let hasNoise = noiseNames.first.map { file.entries["noise/" + $0] != nil } ?? false
        if hasNoise {
            for name in noiseNames {
                guard let e = file.entries["noise/" + name] else {
                    throw LinstoryError(.corrupt, file: path, "tensor 'noise/\(name)' is missing (the file has the other layers' noise)")
                }
                guard e.shape.count == 3, e.shape[0] == n else {
                    throw LinstoryError(.corrupt, file: path, "tensor 'noise/\(name)' has shape \(e.shape), expected [\(n), R, R] like 'w'")
                }
            }
        }
        if let loss = file.entries["final_loss"], loss.shape != [n] {
            throw LinstoryError(.corrupt, file: path, "tensor 'final_loss' has shape \(loss.shape), expected [\(n)] like 'w'")
        }
        self.path = path
        self.file = file
        self.count = n
        self.noiseNames = hasNoise ? noiseNames : nil
        self.hasFinalLoss = file.entries["final_loss"] != nil
        self.first = first
        self.segments = (file.metadata["segments"] ?? "").split(separator: ",").compactMap { SessionFolder.segment(String($0)) }
    }

    /// Window frame i: its latents, noise, final loss (NaN when the file has none) and segment.
    public func frame(_ i: Int) throws -> FrameInversion {
        guard (0..<count).contains(i) else { throw LinstoryError(.invalidValue, file: path, "frame \(i) is outside the file's \(count) frames") }
        var frame = FrameInversion(
            ws: try file.row("w", i), noise: try noiseNames?.map { try file.row("noise/" + $0, i) }, lossHistory: [],
            finalLoss: hasFinalLoss ? try file.row("final_loss", i).scalars[0] : .nan, evaluations: 0)
        frame.segment = segments.first { $0.contains(first + i) }
        return frame
    }

    /// Every frame's final loss [N], or nil when the file predates them.
    public func finalLosses() throws -> [Float]? { hasFinalLoss ? try file.tensor("final_loss").scalars : nil }

    /// Every frame (a clip's worth, for tests).
    public func all() throws -> [FrameInversion] { try (0..<count).map(frame) }
}

extension SessionLatents {
    /// Writes a finished run's assembled files a frame at a time, in window order, holding one frame:
    /// latents/METHOD.safetensors (see `SessionLatents`), latents/METHOD.npz (key w, like NVIDIA's
    /// projected_w.npz) and losses/METHOD.json (each frame's final loss and its loss at every step).
    /// Each appears whole at `commit`, or not at all.
    public final class Writer {
        private let latents: SafeTensorsWriter.Rows
        private let npz: NpzArchive.RowWriter
        private let losses: AtomicFile.Stream
        private let noiseNames: [String]
        private var appended = 0

        /// `like`: any frame of the run (its shapes, and whether it carries noise).
        public init(session: SessionFolder, method: InversionMethod, count: Int, like: FrameInversion, noiseNames: [String], segments: [ClosedRange<Int>]) throws {
            let latentsFolder = try session.ensureFolder("latents")
            let lossesFolder = try session.ensureFolder("losses")
            var tensors: [(name: String, rowShape: [Int])] = [("w", like.ws.shape), ("final_loss", [])]
            if let noise = like.noise {
                for (name, n) in zip(noiseNames, noise) { tensors.append(("noise/" + name, n.shape)) }
            }
            var metadata = ["format": "linstory latents", "method": method.rawValue]
            if !segments.isEmpty { metadata["segments"] = segments.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",") }
            latents = try SafeTensorsWriter.Rows(path: "\(latentsFolder)/\(method.rawValue).safetensors", tensors: tensors, rows: count, metadata: metadata)
            npz = try NpzArchive.RowWriter(path: "\(latentsFolder)/\(method.rawValue).npz", key: "w", rowShape: like.ws.shape, rows: count)
            losses = try AtomicFile.Stream(path: "\(lossesFolder)/\(method.rawValue).json")
            self.noiseNames = like.noise == nil ? [] : noiseNames
            try losses.append(Array("[".utf8))
        }

        /// The next frame (window order), with its final loss set.
        public func append(_ frame: FrameInversion) throws {
            var row: [String: Tensor] = ["w": frame.ws, "final_loss": Tensor(shape: [], values: [frame.finalLoss])]
            for (name, n) in zip(noiseNames, frame.noise ?? []) { row["noise/" + name] = n }
            try latents.write(row: appended, row)
            try npz.append(frame.ws)
            let steps = frame.lossHistory.map(Self.json).joined(separator: ",")
            try losses.append(Array(((appended > 0 ? "," : "") + "{\"final\":[\(Self.json(frame.finalLoss))],\"steps\":[\(steps)]}").utf8))
            appended += 1
        }

        public func commit() throws {
            try losses.append(Array("]".utf8))
            try latents.commit()
            try npz.commit()
            try losses.commit()
        }

        /// JSON has no NaN or infinity: a loss that is not finite is written as null.
        private static func json(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }
    }
}
