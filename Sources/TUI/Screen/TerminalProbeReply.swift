/// What a terminal answered to linstory's start-up queries, parsed from the raw bytes:
/// DA1 (`ESC [ c`), the cell size in pixels (`ESC [ 16 t`) and the number of sixel colour registers
/// (XTSMGRAPHICS, `ESC [ ? 1 ; 1 ; 0 S`). Parsing is separate from asking so it can be tested.
public struct TerminalProbeReply: Equatable, Sendable {
    /// DA1's parameters: the first is the terminal class (1, 62, 63, 64, 65), the rest its features.
    public var deviceAttributes: [Int]?
    /// The cell size in pixels, from `ESC [ 6 ; height ; width t` or from TIOCGWINSZ's pixel fields.
    public var cellPixelSize: Size?
    /// Sixel colour registers, from `ESC [ ? 1 ; 0 ; N S`.
    public var sixelColorRegisters: Int?

    public init(deviceAttributes: [Int]? = nil, cellPixelSize: Size? = nil, sixelColorRegisters: Int? = nil) {
        self.deviceAttributes = deviceAttributes
        self.cellPixelSize = cellPixelSize
        self.sixelColorRegisters = sixelColorRegisters
    }

    /// A 4 among DA1's feature parameters means sixel graphics. tmux answers DA1 itself, without it.
    public var supportsSixel: Bool { deviceAttributes?.dropFirst().contains(4) ?? false }

    /// True once the DA1 answer is in: every terminal answers DA1, and answers in order, so it is
    /// sent last and its reply ends the wait.
    public var isComplete: Bool { deviceAttributes != nil }

    /// Parses every control sequence in `bytes`, ignoring anything else (a key the user pressed).
    public static func parse(_ bytes: [UInt8]) -> TerminalProbeReply {
        var reply = TerminalProbeReply()
        var i = 0
        while i < bytes.count {
            guard bytes[i] == 0x1B, i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "[") else { i += 1; continue }
            var j = i + 2
            let isPrivate = j < bytes.count && bytes[j] == UInt8(ascii: "?")
            if isPrivate { j += 1 }
            var params: [Int] = []
            var current: Int?
            // Parameters: digits separated by semicolons, then one final byte.
            while j < bytes.count {
                let b = bytes[j]
                if b >= 0x30 && b <= 0x39 {
                    current = (current ?? 0) * 10 + Int(b - 0x30)
                } else if b == UInt8(ascii: ";") {
                    params.append(current ?? 0)
                    current = nil
                } else {
                    break
                }
                j += 1
            }
            guard j < bytes.count else { break }
            if let current { params.append(current) }
            switch (bytes[j], isPrivate) {
            case (UInt8(ascii: "c"), true):
                reply.deviceAttributes = params
            case (UInt8(ascii: "t"), false) where params.count == 3 && params[0] == 6 && params[1] > 0 && params[2] > 0:
                reply.cellPixelSize = Size(width: params[2], height: params[1])
            case (UInt8(ascii: "S"), true) where params.count >= 3 && params[0] == 1 && params[1] == 0:
                reply.sixelColorRegisters = params[2]
            default:
                break
            }
            i = j + 1
        }
        return reply
    }
}
