import Engine

/// Clips built frame by frame from stills, for scene-detection cases no sample clip covers: flashes,
/// fast pans, slow fades, dissolves between moving shots. Deterministic: no randomness anywhere.
public enum SyntheticClip {
    /// A `width` x `height` window panning over `still` enlarged twice, `count` frames, moving
    /// `velocity` pixels (of the enlarged still) per frame and bouncing off its edges.
    public static func pan(over still: RGBImage, count: Int, from start: (x: Double, y: Double) = (0, 0),
                           velocity: (x: Double, y: Double), width: Int = 320, height: Int = 180) -> [RGBImage] {
        let big = AreaResampler.resize(still, width: still.width * 2, height: still.height * 2)
        let span = (x: big.width - 2 * width, y: big.height - 2 * height)
        func bounce(_ v: Double, _ range: Int) -> Int {
            guard range > 0 else { return 0 }
            let period = Double(2 * range)
            let m = (v.truncatingRemainder(dividingBy: period) + period).truncatingRemainder(dividingBy: period)
            return Int(m <= Double(range) ? m : period - m)
        }
        return (0..<count).map { i in
            let x = bounce(start.x + velocity.x * Double(i), span.x)
            let y = bounce(start.y + velocity.y * Double(i), span.y)
            return AreaResampler.resize(big.cropped(x: x, y: y, width: 2 * width, height: 2 * height), width: width, height: height)
        }
    }

    /// (1 - t) * a + t * b, per sample, rounded.
    public static func mix(_ a: RGBImage, _ b: RGBImage, _ t: Double) -> RGBImage {
        precondition(a.width == b.width && a.height == b.height, "mixing frames of different sizes")
        let pixels = zip(a.pixels, b.pixels).map { UInt8(min(max(((1 - t) * Double($0) + t * Double($1)).rounded(), 0), 255)) }
        return RGBImage(width: a.width, height: a.height, pixels: pixels)
    }

    /// A cross-dissolve of `count` mixed frames from shot `a` into shot `b` (frame i mixes a[i], b[i]).
    public static func dissolve(_ a: [RGBImage], _ b: [RGBImage], count: Int) -> [RGBImage] {
        (0..<count).map { mix(a[$0], b[$0], Double($0 + 1) / Double(count + 1)) }
    }

    /// A solid frame.
    public static func solid(_ value: UInt8, like frame: RGBImage) -> RGBImage {
        RGBImage(width: frame.width, height: frame.height, pixels: [UInt8](repeating: value, count: frame.pixels.count))
    }

    /// `frames` fading in from a solid grey `level` (0 black, 255 white): the picture's weight rises
    /// linearly, reaching 1 just after the last frame.
    public static func fadeIn(_ frames: [RGBImage], from level: UInt8) -> [RGBImage] {
        frames.enumerated().map { i, f in mix(solid(level, like: f), f, Double(i + 1) / Double(frames.count + 1)) }
    }

    /// `frames` fading out to a solid grey `level`.
    public static func fadeOut(_ frames: [RGBImage], to level: UInt8) -> [RGBImage] {
        frames.enumerated().map { i, f in mix(f, solid(level, like: f), Double(i + 1) / Double(frames.count + 1)) }
    }

    /// `frame` brightened towards white by `amount` (0...1): a camera flash.
    public static func flash(_ frame: RGBImage, amount: Double) -> RGBImage {
        mix(frame, solid(255, like: frame), amount)
    }
}
