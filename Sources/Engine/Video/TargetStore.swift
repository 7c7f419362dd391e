import Foundation
import Glibc

/// A clip's frames as inversion reads them, on disk: fitted to the model's square and kept as the
/// 8-bit RGB they were decoded as, back to back in one file (`[F, R, R, 3]`, ffmpeg's rgb24), beside
/// a small JSON header. Any frame is one read away and none has to be held in memory, so a film costs
/// its frames' disk space (R x R x 3 bytes a frame: 197 KB at 256 px, 25 GB for 130,000 frames), not
/// memory. The bytes are exactly what `ClipTargets` decodes, so targets read from here are the same
/// tensors, bit for bit.
///
/// Written once, in the pass that detects the video's cuts (`TargetStore.Writer`, or ffmpeg itself
/// writing the file as a second output of the same decode); complete only when its header is there.
public final class TargetStore: @unchecked Sendable {
    public struct Header: Codable, Sendable, Equatable {
        public var version = 1
        public var frames: Int
        public var resolution: Int
        public var fit: String
        /// The video frame the store's frame 0 is (a window of the video may be stored alone).
        public var first: Int
        /// The whole video's frame count and rate, as the pass that wrote the store found them.
        public var videoFrames: Int
        public var fps: Double

        public init(frames: Int, resolution: Int, fit: FitPolicy, first: Int, videoFrames: Int, fps: Double) {
            self.frames = frames
            self.resolution = resolution
            self.fit = fit.rawValue
            self.first = first
            self.videoFrames = videoFrames
            self.fps = fps
        }

        public var frameBytes: Int { resolution * resolution * 3 }
    }

    public let path: String
    public let header: Header
    private let fd: Int32

    /// The header beside a store's pixel file.
    public static func headerPath(_ path: String) -> String { path + ".json" }

    /// Opens a finished store; refuses one whose size disagrees with its header.
    public init(path: String) throws {
        let headerFile = Self.headerPath(path)
        guard let data = FileManager.default.contents(atPath: headerFile) else {
            throw LinstoryError(.notFound, file: headerFile, "no frame store here (its header is missing: never finished?)")
        }
        let h: Header
        do {
            h = try JSONDecoder().decode(Header.self, from: data)
        } catch {
            throw LinstoryError(.corrupt, file: headerFile, "not a frame store header (\(error.localizedDescription))")
        }
        guard h.version == 1, h.frames >= 0, h.first >= 0, h.resolution > 0, h.resolution <= 16384, h.first <= Int.max - h.frames,
              h.frames <= Int.max / (h.resolution * h.resolution * 3), h.fps > 0, h.videoFrames >= h.first + h.frames
        else {
            throw LinstoryError(.corrupt, file: headerFile, "not a frame store header this linstory reads (version \(h.version), \(h.frames) frames at \(h.resolution) px)")
        }
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LinstoryError(errno == ENOENT ? .notFound : .unreadable, file: path, "cannot open: \(String(cString: strerror(errno)))") }
        var info = stat()
        guard fstat(fd, &info) == 0, Int(info.st_size) == h.frames * h.frameBytes else {
            _ = Glibc.close(fd)
            throw LinstoryError(.corrupt, file: path, "holds \(info.st_size) bytes, not the \(h.frames) frames of \(h.resolution) x \(h.resolution) its header says")
        }
        self.path = path
        header = h
        self.fd = fd
    }

    deinit { _ = Glibc.close(fd) }

    public var count: Int { header.frames }

    /// Store frame `i` (0 ..< count) as decoded.
    public func image(_ i: Int) throws -> RGBImage {
        precondition(i >= 0 && i < count, "frame \(i) of a store of \(count)")
        let n = header.frameBytes
        var pixels = [UInt8](repeating: 0, count: n)
        var done = 0
        while done < n {
            let got = pixels.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, n - done, off_t(i * n + done)) }
            if got < 0, errno == EINTR { continue }
            guard got > 0 else { throw LinstoryError(.unreadable, file: path, "cannot read frame \(i): \(got < 0 ? String(cString: strerror(errno)) : "the file ends early")") }
            done += got
        }
        return RGBImage(width: header.resolution, height: header.resolution, pixels: pixels)
    }

    /// Store frames `range` as inversion targets [n, channels, R, R] in [-1, 1] (see `ClipTargets`).
    public func targets(_ range: Range<Int>, channels: Int) throws -> Tensor {
        Tensor.concatenate(try range.map { i in
            let t = ClipTargets.target(try image(i), channels: channels)
            return t.reshaped([1] + t.shape)
        })
    }

    /// Fills a store from `video` in a pass of its own (when no detection pass is due to fill it):
    /// frames `window` (all when nil) fitted to the square, exactly as `ClipTargets` decodes them.
    public static func build(
        video: String, path: String, resolution: Int, fit: FitPolicy, window: Range<Int>?, folderFPS: Double = 25, tools: FFmpegTools? = nil,
        progress: ((_ framesSeen: Int, _ totalFrames: Int?) throws -> Void)? = nil
    ) throws -> TargetStore {
        let writer = try Writer(path: path, resolution: resolution, fit: fit, first: window?.lowerBound ?? 0)
        var finished = false
        defer { if !finished { writer.abandon() } }
        let (info, videoFrames) = try ClipTargets.decode(
            video: video, resolution: resolution, fit: fit, window: window, folderFPS: folderFPS, tools: tools, progress: progress
        ) { _, image in try writer.append(image) }
        let store = try writer.finish(videoFrames: videoFrames, fps: info.fps)
        finished = true
        return store
    }

    /// Writes a store frame by frame (PNG folders, or any source decoded in Swift): to a temporary
    /// file, renamed into place with its header by `finish`, so a store is whole or absent.
    public final class Writer {
        public let path: String
        private let resolution: Int
        private let fit: FitPolicy
        private let first: Int
        private let temporary: String
        private let handle: FileHandle
        public private(set) var frames = 0

        public init(path: String, resolution: Int, fit: FitPolicy, first: Int = 0) throws {
            self.path = path
            self.resolution = resolution
            self.fit = fit
            self.first = first
            temporary = path + ".partial"
            try? FileManager.default.removeItem(atPath: temporary)
            guard FileManager.default.createFile(atPath: temporary, contents: nil), let h = FileHandle(forWritingAtPath: temporary) else {
                throw LinstoryError(.unreadable, file: temporary, "cannot create the frame store")
            }
            handle = h
        }

        /// Appends one frame, already fitted to the square.
        public func append(_ image: RGBImage) throws {
            precondition(image.width == resolution && image.height == resolution, "a \(image.width)x\(image.height) frame for a \(resolution) px store")
            do {
                try handle.write(contentsOf: image.pixels)
            } catch {
                throw LinstoryError(.unreadable, file: temporary, "cannot write the frame store: \(error.localizedDescription)")
            }
            frames += 1
        }

        /// Closes the pixel file and publishes the store.
        public func finish(videoFrames: Int, fps: Double) throws -> TargetStore {
            try? handle.close()
            return try TargetStore.publish(
                temporary: temporary, path: path,
                header: Header(frames: frames, resolution: resolution, fit: fit, first: first, videoFrames: videoFrames, fps: fps))
        }

        /// Removes what was written (the pass failed or was interrupted).
        public func abandon() {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: temporary)
        }
    }

    /// Moves a finished pixel file into place and writes its header last: until the header is
    /// there, the store does not exist.
    static func publish(temporary: String, path: String, header: Header) throws -> TargetStore {
        try? FileManager.default.removeItem(atPath: headerPath(path))
        guard rename(temporary, path) == 0 else {
            throw LinstoryError(.unreadable, file: path, "cannot move the frame store into place: \(String(cString: strerror(errno)))")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(try encoder.encode(header), to: headerPath(path))
        return try TargetStore(path: path)
    }
}
