import Engine
import Foundation

/// A clip edited by ffmpeg at test time from the sample footage, its ground truth known by
/// construction: moving shots (windows panning over the footage) joined by hard cuts, cross-dissolves
/// and fades through a grey level, with one-frame flashes and fast pans inside shots, which are no cuts.
///
/// Every frame of the result is defined exactly: each piece is cut from a shot by frame number and
/// renumbered, mixes are weighted by frame number, and the pieces are concatenated, with no
/// frame-rate conversion anywhere. The video is H.264 like real footage; x264 runs on one thread, so
/// a spec gives the same frames on every machine.
public struct EditedClip: Sendable {
    /// The frame size of every clip.
    public static let width = 320, height = 180
    public static let fps = 25.0
    /// Footage is scaled to this size first; shots are windows into it, scaled to the clip size.
    static let base = (width: 640, height: 360)

    public enum Footage: Sendable {
        /// `bbb-shot.mp4`: 132 frames of one continuous shot.
        case shot
        /// `bbb-cuts.mp4`: 202 frames, 8 shots (see its truth file).
        case cuts

        var path: String { self == .shot ? Clips.bbbShot : Clips.bbbCuts }
        var frames: Int { self == .shot ? 132 : 202 }
    }

    /// A velocity in base pixels (of the 640x360 footage) per frame.
    public struct Motion: Sendable {
        public var x: Double, y: Double
        public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
    }

    /// A fast pan inside a shot: frames `first + 1 ... first + count` of the shot each move by
    /// `velocity` on top of the shot's own motion.
    public struct FastPan: Sendable {
        public var first: Int, count: Int, velocity: Motion
        public init(first: Int, count: Int, velocity: Motion) { self.first = first; self.count = count; self.velocity = velocity }
    }

    /// One shot: a 16:9 window `window` base pixels wide, starting at `origin` and moving by `motion`
    /// every frame, over frames `from ..< from + count` of the footage.
    public struct Shot: Sendable {
        public var footage: Footage
        public var from: Int
        /// Frames the shot contributes, those mixed into its transitions included.
        public var count: Int
        public var window: Int
        public var origin: Motion
        public var motion: Motion
        /// ffmpeg filters that give the shot a look of its own (a flip, a tint), applied last.
        public var look: String
        /// A frame of the shot (counted from its first) brightened most of the way to white.
        public var flash: Int?
        public var fastPan: FastPan?

        public init(_ footage: Footage, from: Int, count: Int, window: Int, origin: Motion, motion: Motion,
                    look: String = "", flash: Int? = nil, fastPan: FastPan? = nil) {
            self.footage = footage; self.from = from; self.count = count; self.window = window
            self.origin = origin; self.motion = motion; self.look = look; self.flash = flash; self.fastPan = fastPan
        }

        var windowHeight: Int { window * 9 / 16 / 2 * 2 }

        /// The window's corner at frame n of the shot, in base pixels.
        func corner(at n: Int) -> Motion {
            let fast = fastPan.map { Double(min(max(n - $0.first, 0), $0.count)) } ?? 0
            return Motion(origin.x + motion.x * Double(n) + fast * (fastPan?.velocity.x ?? 0),
                          origin.y + motion.y * Double(n) + fast * (fastPan?.velocity.y ?? 0))
        }

        /// `corner(at:)` as an ffmpeg expression of the frame number n (commas escaped).
        func cornerExpression(_ axis: KeyPath<Motion, Double>) -> String {
            var e = "\(origin[keyPath: axis])+\(motion[keyPath: axis])*n"
            if let f = fastPan { e += "+\(f.velocity[keyPath: axis])*clip(n-\(f.first)\\,0\\,\(f.count))" }
            return e
        }
    }

    /// How one shot gives way to the next.
    public enum Join: Sendable {
        case cut
        /// `frames` mixed frames, the old shot's last into the new one's first; the new shot's weight
        /// rises evenly from 1/(frames+1) to frames/(frames+1).
        case dissolve(frames: Int)
        /// The old shot fades to grey `level` (0 black, 255 white) over `out` frames, the level holds
        /// for `hold`, and the new shot fades in over `in`.
        case fade(level: UInt8, out: Int, hold: Int, in: Int)
    }

    public let name: String
    public let shots: [Shot]
    /// `joins[i]` joins `shots[i]` to `shots[i + 1]`.
    public let joins: [Join]

    // What the edit puts where, in frames of the result.
    public let frames: Int
    public let truth: Clips.Truth
    /// The flashed frames.
    public let flashes: [Int]
    /// The frames of each fast pan.
    public let fastPans: [ClosedRange<Int>]
    let pieces: [Piece]

    public init(_ name: String, shots: [Shot], joins: [Join]) {
        precondition(joins.count == shots.count - 1, "\(name): one join between each two shots")
        for (i, s) in shots.enumerated() {
            precondition(s.from >= 0 && s.from + s.count <= s.footage.frames, "\(name): shot \(i) runs past its footage")
            // ffmpeg's crop would clamp a window that leaves the footage, silently stopping its motion.
            for n in 0..<s.count {
                let c = s.corner(at: n)
                precondition(c.x >= 0 && c.y >= 0 && c.x + Double(s.window) <= Double(Self.base.width)
                             && c.y + Double(s.windowHeight) <= Double(Self.base.height),
                             "\(name): shot \(i)'s window leaves the footage at its frame \(n)")
            }
        }
        self.name = name
        self.shots = shots
        self.joins = joins

        var pieces: [Piece] = []
        var hardCuts: [Int] = [], gradual: [(kind: String, window: ClosedRange<Int>)] = []
        var flashes: [Int] = [], fastPans: [ClosedRange<Int>] = []
        var frame = 0  // frames laid so far
        var head = 0   // frames of the current shot already mixed into the transition before it
        for (i, shot) in shots.enumerated() {
            let join = i < joins.count ? joins[i] : .cut
            let tail: Int
            switch join {
            case .cut: tail = 0
            case let .dissolve(n): tail = n
            case let .fade(_, out, _, _): tail = out
            }
            let own = head..<(shot.count - tail)
            precondition(!own.isEmpty, "\(name): shot \(i) has no frame of its own")
            // Frame k of this shot lands at `zero + k`.
            let zero = frame - head
            if let f = shot.flash {
                precondition(own.contains(f), "\(name): shot \(i)'s flash is inside a transition")
                flashes.append(zero + f)
            }
            if let p = shot.fastPan { fastPans.append((zero + p.first)...(zero + p.first + p.count)) }
            pieces.append(.frames(shot: i, range: own))
            frame += own.count
            head = 0
            guard i < joins.count else { break }
            let tailRange = own.upperBound..<shot.count
            let spanStart = frame
            switch join {
            case .cut:
                hardCuts.append(frame)
                continue
            case let .dissolve(n):
                pieces.append(.mix(.shot(i, tailRange), .shot(i + 1, 0..<n), count: n))
                head = n
                frame += n
                gradual.append((kind: "cross-dissolve", window: (spanStart - 1)...frame))
            case let .fade(level, out, hold, fadeIn):
                pieces.append(.mix(.shot(i, tailRange), .level(level), count: out))
                if hold > 0 { pieces.append(.solid(level: level, count: hold)) }
                pieces.append(.mix(.level(level), .shot(i + 1, 0..<fadeIn), count: fadeIn))
                head = fadeIn
                frame += out + hold + fadeIn
                let through = level == 0 ? "black" : level == 255 ? "white" : "grey \(level)"
                gradual.append((kind: "fade-to-\(through)", window: (spanStart - 1)...frame))
            }
        }
        self.pieces = pieces
        self.frames = frame
        self.flashes = flashes
        self.fastPans = fastPans
        truth = Clips.Truth(frames: frame, fps: Self.fps, hardCuts: hardCuts, gradual: gradual)
    }

    /// A stretch of the result: frames of one shot, a mix of two inputs, or a solid grey.
    enum Piece {
        case frames(shot: Int, range: Range<Int>)
        /// `count` frames mixing two inputs, the second one's weight rising evenly from
        /// 1/(count+1) to count/(count+1).
        case mix(PieceInput, PieceInput, count: Int)
        case solid(level: UInt8, count: Int)
    }

    enum PieceInput {
        case shot(Int, Range<Int>)
        case level(UInt8)
    }

    /// Edits the clip into `path` (an .mp4), with one ffmpeg run.
    public func write(to path: String) throws {
        let footage = Array(Set(shots.map(\.footage))).sorted { $0.path < $1.path }
        var graph: [String] = []
        // Each footage is decoded once, scaled to the base size and split between its shots.
        for (k, f) in footage.enumerated() {
            let users = shots.indices.filter { shots[$0].footage == f }
            graph.append("[\(k):v]scale=\(Self.base.width):\(Self.base.height):flags=area,format=gbrp,split=\(users.count)"
                         + users.map { "[f\($0)]" }.joined())
        }
        // Each shot once, split between the pieces that use it.
        var uses = [Int](repeating: 0, count: shots.count)
        for piece in pieces {
            switch piece {
            case let .frames(shot, _): uses[shot] += 1
            case let .mix(a, b, _):
                for case let .shot(s, _) in [a, b] { uses[s] += 1 }
            case .solid: break
            }
        }
        for (i, s) in shots.enumerated() {
            var chain = ["trim=start_frame=\(s.from):end_frame=\(s.from + s.count)", Self.renumber,
                         "crop=w=\(s.window):h=\(s.windowHeight):x='\(s.cornerExpression(\.x))':y='\(s.cornerExpression(\.y))'",
                         "scale=\(Self.width):\(Self.height):flags=area", "setsar=1"]
            if !s.look.isEmpty { chain.append(s.look) }
            if let f = s.flash {
                let towardsWhite = "'val+(255-val)*0.85'"
                chain.append("lutrgb=r=\(towardsWhite):g=\(towardsWhite):b=\(towardsWhite):enable='eq(n\\,\(f))'")
            }
            chain.append("split=\(uses[i])")
            graph.append("[f\(i)]" + chain.joined(separator: ",") + (0..<uses[i]).map { "[s\(i)u\($0)]" }.joined())
        }
        var used = [Int](repeating: 0, count: shots.count)
        func take(_ shot: Int, _ range: Range<Int>) -> String {
            used[shot] += 1
            return "[s\(shot)u\(used[shot] - 1)]trim=start_frame=\(range.lowerBound):end_frame=\(range.upperBound),\(Self.renumber)"
        }
        func solid(_ level: UInt8, _ count: Int) -> String {
            let hex = String(format: "0x%02x%02x%02x", level, level, level)
            return "color=c=\(hex):s=\(Self.width)x\(Self.height):r=\(Int(Self.fps)),format=gbrp,setsar=1,trim=end_frame=\(count),\(Self.renumber)"
        }
        for (j, piece) in pieces.enumerated() {
            switch piece {
            case let .frames(shot, range):
                graph.append(take(shot, range) + "[p\(j)]")
            case let .mix(a, b, count):
                for (input, label) in [(a, "a"), (b, "b")] {
                    switch input {
                    case let .shot(s, range): graph.append(take(s, range) + "[p\(j)\(label)]")
                    case let .level(level): graph.append(solid(level, count) + "[p\(j)\(label)]")
                    }
                }
                // N is the frame number within the piece; +0.5 rounds to the nearest level.
                graph.append("[p\(j)a][p\(j)b]blend=all_expr='A+(B-A)*(N+1)/\(count + 1)+0.5'[p\(j)]")
            case let .solid(level, count):
                graph.append(solid(level, count) + "[p\(j)]")
            }
        }
        graph.append(pieces.indices.map { "[p\($0)]" }.joined() + "concat=n=\(pieces.count):v=1:a=0,format=yuv420p[out]")

        let tools = try FFmpegTools.locate(for: path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tools.ffmpeg)
        process.arguments = ["-nostdin", "-v", "error", "-y"] + footage.flatMap { ["-i", $0.path] }
            + ["-filter_complex", graph.joined(separator: ";"), "-map", "[out]", "-fps_mode", "passthrough",
               "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-threads", "1", "-an", path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LinstoryError(.tool, file: path, "ffmpeg could not edit clip \(name): \(String(decoding: message, as: UTF8.self))")
        }
    }

    /// Frames numbered 0, 1, 2... at the clip's frame rate, whatever they were before.
    static let renumber = "setpts=N/(\(Int(fps))*TB)"
}
