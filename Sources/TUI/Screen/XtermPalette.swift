/// xterm's default 256-colour palette and nearest-colour look-ups into it.
public enum XtermPalette {
    /// The cube's six levels per channel (xterm's 256colres.h: 0, 95, 135, 175, 215, 255).
    static let cubeLevels: [UInt8] = [0, 95, 135, 175, 215, 255]

    /// The first sixteen entries, as xterm sets them by default.
    static let basic: [(UInt8, UInt8, UInt8)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    public static func rgb(ofIndex i: UInt8) -> (r: UInt8, g: UInt8, b: UInt8) {
        switch i {
        case 0..<16:
            let c = basic[Int(i)]
            return (c.0, c.1, c.2)
        case 16..<232:
            let k = Int(i) - 16
            return (cubeLevels[k / 36], cubeLevels[(k / 6) % 6], cubeLevels[k % 6])
        default:
            let v = UInt8(8 + 10 * (Int(i) - 232))
            return (v, v, v)
        }
    }

    /// The nearest of entries 16-255: the closest cube colour and the closest grey, whichever is
    /// nearer in squared RGB distance. Exact for colours that are palette entries.
    public static func nearestIndex(r: UInt8, g: UInt8, b: UInt8) -> UInt8 {
        let ri = nearestCubeLevel(r), gi = nearestCubeLevel(g), bi = nearestCubeLevel(b)
        let cube = UInt8(16 + 36 * ri + 6 * gi + bi)
        let average = (Int(r) + Int(g) + Int(b)) / 3
        let greyStep = min(23, max(0, (average - 3) / 10))
        let grey = UInt8(232 + greyStep)
        return distance(rgb(ofIndex: cube), (r, g, b)) <= distance(rgb(ofIndex: grey), (r, g, b)) ? cube : grey
    }

    /// The nearest of the eight basic colours, for 8-colour terminals.
    public static func nearestBasicIndex(r: UInt8, g: UInt8, b: UInt8) -> UInt8 {
        var best = 0, bestDistance = Int.max
        for i in 0..<8 {
            let d = distance(rgb(ofIndex: UInt8(i)), (r, g, b))
            if d < bestDistance { best = i; bestDistance = d }
        }
        return UInt8(best)
    }

    static func nearestCubeLevel(_ v: UInt8) -> Int {
        // Midpoints between the levels: 47, 115, 155, 195, 235.
        switch v {
        case 0..<48: 0
        case 48..<115: 1
        case 115..<155: 2
        case 155..<195: 3
        case 195..<235: 4
        default: 5
        }
    }

    static func distance(_ a: (r: UInt8, g: UInt8, b: UInt8), _ b: (UInt8, UInt8, UInt8)) -> Int {
        let dr = Int(a.r) - Int(b.0), dg = Int(a.g) - Int(b.1), db = Int(a.b) - Int(b.2)
        return dr * dr + dg * dg + db * db
    }
}
