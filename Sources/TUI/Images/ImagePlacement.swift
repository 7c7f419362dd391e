import Engine

/// A sixel image the frame wants on screen: the cells it covers and the image already scaled to
/// its pixel size. Rendering produces placements (pure, comparable in tests); the run loop encodes
/// them into `TerminalOverlay`s, only when they change (`SixelOverlayCache`).
public struct ImagePlacement: Equatable, Sendable {
    public var rect: Rect
    public var image: RGBImage

    public init(rect: Rect, image: RGBImage) {
        self.rect = rect
        self.image = image
    }

    /// Fits `image` into `rect` at `cellPixelSize` pixels per cell, centred, keeping the aspect
    /// ratio. Nil when there is no room.
    public static func fitting(_ image: RGBImage, in rect: Rect, cellPixelSize: Size) -> ImagePlacement? {
        guard !rect.isEmpty, image.width > 0, image.height > 0, cellPixelSize.width > 0, cellPixelSize.height > 0 else { return nil }
        let room = Size(width: rect.width * cellPixelSize.width, height: rect.height * cellPixelSize.height)
        let pixels = ImageFit.fitted(width: image.width, height: image.height, into: room)
        guard pixels.width > 0 else { return nil }
        let cells = Size(width: (pixels.width + cellPixelSize.width - 1) / cellPixelSize.width,
                         height: (pixels.height + cellPixelSize.height - 1) / cellPixelSize.height)
        return ImagePlacement(rect: rect.centered(cells),
                              image: AreaResampler.resize(image, width: pixels.width, height: pixels.height, enlarging: .nearest))
    }
}
