import Foundation

/// Frames from a folder of PNGs, read one at a time in name order.
///
/// Name order is natural order (`frame2.png` before `frame10.png`), which is also plain order for
/// zero-padded names. Hidden files and subfolders are skipped; any other file must be a PNG: a
/// stray file in a frame folder is more likely a mistake than something to ignore silently. Every
/// frame must have the first frame's size.
public final class PNGFolderReader: FrameSource {
    public let path: String
    public let info: VideoInfo
    /// The frame files, in the order they are read.
    public let files: [String]
    public private(set) var framesRead = 0
    private let scaling: FrameScaling
    private let sourceWidth: Int
    private let sourceHeight: Int
    private var first: RGBImage?
    private var closed = false

    /// - Parameter fps: the rate to assign to the frames (a folder does not record one).
    public init(folder: String, scaling: FrameScaling = .original, fps: Double = 25) throws {
        path = folder
        self.scaling = scaling
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw FileManager.default.fileExists(atPath: folder)
                ? LinstoryError(.unreadable, file: folder, "cannot list the folder") : LinstoryError(.notFound, file: folder, "no such folder")
        }
        var frames: [String] = []
        for name in names.sorted(by: Self.naturalOrder) where !name.hasPrefix(".") {
            let file = (folder as NSString).appendingPathComponent(name)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file, isDirectory: &isFolder), !isFolder.boolValue else { continue }
            try Self.checkSignature(file)
            frames.append(file)
        }
        guard let firstFile = frames.first else { throw LinstoryError(.notFound, file: folder, "contains no PNG frames") }
        files = frames
        let image = try PNGFile.read(path: firstFile)
        first = image
        sourceWidth = image.width
        sourceHeight = image.height
        let (w, h) = scaling.outputSize(width: image.width, height: image.height)
        guard w > 0 && h > 0 else { throw LinstoryError(.invalidValue, file: folder, "cannot scale \(image.width)x\(image.height) frames to \(w)x\(h)") }
        info = VideoInfo(width: w, height: h, fps: fps, frameCount: frames.count, frameCountIsExact: true)
    }

    public func next() throws -> RGBImage? {
        guard !closed, framesRead < files.count else { return nil }
        let file = files[framesRead]
        let image: RGBImage
        if let first {
            image = first
            self.first = nil
        } else {
            image = try PNGFile.read(path: file)
        }
        guard image.width == sourceWidth && image.height == sourceHeight else {
            throw LinstoryError(.mismatch, file: file, "is \(image.width)x\(image.height), but the first frame (\((files[0] as NSString).lastPathComponent)) is \(sourceWidth)x\(sourceHeight)")
        }
        framesRead += 1
        return scaling.apply(image)
    }

    public func close() {
        closed = true
        first = nil
    }

    /// Checks the 8-byte PNG signature up front, so a stray file is reported before any work is done.
    private static func checkSignature(_ file: String) throws {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw LinstoryError(.unreadable, file: file, "cannot read: permission denied") }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        guard head.elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw LinstoryError(.wrongFormat, file: file, "not a PNG (a frame folder must hold only PNG files)")
        }
    }

    /// Compares runs of ASCII digits by value and everything else byte by byte (UTF-8).
    public static func naturalOrder(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        func digit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        var i = 0, j = 0
        while i < x.count && j < y.count {
            guard digit(x[i]) && digit(y[j]) else {
                if x[i] != y[j] { return x[i] < y[j] }
                i += 1; j += 1
                continue
            }
            var endI = i, endJ = j
            while endI < x.count && digit(x[endI]) { endI += 1 }
            while endJ < y.count && digit(y[endJ]) { endJ += 1 }
            var si = i, sj = j  // skip leading zeros, keeping one digit
            while si < endI - 1 && x[si] == 48 { si += 1 }
            while sj < endJ - 1 && y[sj] == 48 { sj += 1 }
            if endI - si != endJ - sj { return endI - si < endJ - sj }
            for k in 0..<(endI - si) where x[si + k] != y[sj + k] { return x[si + k] < y[sj + k] }
            if endI - i != endJ - j { return endI - i < endJ - j }
            i = endI; j = endJ
        }
        return x.count - i < y.count - j
    }
}
