/// How a frame of any shape is made square for a model of resolution `side`.
public enum FitPolicy: String, Sendable, CaseIterable {
    /// Cut the largest centred square out of the frame, then scale it: no distortion, loses the sides.
    case centerCrop = "center-crop"
    /// Scale the whole frame to fit inside the square and pad with black bars: nothing lost, but the
    /// model sees bars it never saw in training.
    case letterbox
    /// Scale width and height independently: everything kept, proportions distorted.
    case stretch

    /// The geometry of the fit, in integers, so the ffmpeg path and the Swift path cut the same pixels.
    public struct Layout: Sendable, Equatable {
        /// The part of the source frame used: x, y, width, height.
        public var crop: (x: Int, y: Int, width: Int, height: Int)
        /// The size that part is scaled to.
        public var scaledWidth: Int
        public var scaledHeight: Int
        /// Where the scaled picture sits in the `side` x `side` output (non-zero only for letterbox).
        public var offsetX: Int
        public var offsetY: Int

        public init(crop: (x: Int, y: Int, width: Int, height: Int), scaledWidth: Int, scaledHeight: Int, offsetX: Int, offsetY: Int) {
            self.crop = crop
            self.scaledWidth = scaledWidth
            self.scaledHeight = scaledHeight
            self.offsetX = offsetX
            self.offsetY = offsetY
        }

        public static func == (a: Layout, b: Layout) -> Bool {
            a.crop == b.crop && a.scaledWidth == b.scaledWidth && a.scaledHeight == b.scaledHeight
                && a.offsetX == b.offsetX && a.offsetY == b.offsetY
        }
    }

    public func layout(width: Int, height: Int, side: Int) -> Layout {
        precondition(width > 0 && height > 0 && side > 0, "cannot fit \(width)x\(height) into \(side)")
        switch self {
        case .centerCrop:
            let s = min(width, height)
            return Layout(crop: ((width - s) / 2, (height - s) / 2, s, s), scaledWidth: side, scaledHeight: side,
                          offsetX: 0, offsetY: 0)
        case .letterbox:
            // The long side fills the square; the short side keeps the aspect ratio, at least 1 pixel.
            let w = width >= height ? side : max(1, Int((Double(side) * Double(width) / Double(height)).rounded()))
            let h = height >= width ? side : max(1, Int((Double(side) * Double(height) / Double(width)).rounded()))
            return Layout(crop: (0, 0, width, height), scaledWidth: w, scaledHeight: h,
                          offsetX: (side - w) / 2, offsetY: (side - h) / 2)
        case .stretch:
            return Layout(crop: (0, 0, width, height), scaledWidth: side, scaledHeight: side, offsetX: 0, offsetY: 0)
        }
    }

    /// `image` made `side` x `side`, down-scaled by area averaging.
    public func fit(_ image: RGBImage, side: Int) -> RGBImage {
        let l = layout(width: image.width, height: image.height, side: side)
        var picture = image
        if l.crop != (0, 0, image.width, image.height) {
            picture = image.cropped(x: l.crop.x, y: l.crop.y, width: l.crop.width, height: l.crop.height)
        }
        picture = AreaResampler.resize(picture, width: l.scaledWidth, height: l.scaledHeight)
        if picture.width == side && picture.height == side { return picture }
        var canvas = RGBImage(width: side, height: side)
        canvas.paste(picture, x: l.offsetX, y: l.offsetY)
        return canvas
    }

    /// The same fit as an ffmpeg filter chain, so a large video is shrunk before it crosses the pipe.
    public func ffmpegFilter(width: Int, height: Int, side: Int) -> String {
        let l = layout(width: width, height: height, side: side)
        var steps: [String] = []
        if l.crop != (0, 0, width, height) {
            steps.append("crop=\(l.crop.width):\(l.crop.height):\(l.crop.x):\(l.crop.y)")
        }
        steps.append("scale=\(l.scaledWidth):\(l.scaledHeight):flags=area")
        if l.scaledWidth != side || l.scaledHeight != side {
            steps.append("pad=\(side):\(side):\(l.offsetX):\(l.offsetY):black")
        }
        return steps.joined(separator: ",")
    }
}
