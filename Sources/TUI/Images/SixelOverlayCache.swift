/// Turns the frame's image placements into terminal overlays, encoding a sixel only when its
/// placement changed since the last frame: the loop redraws at up to 30 fps and an encode costs
/// milliseconds, while previews change a few times a second at most.
public final class SixelOverlayCache {
    public var encoder: SixelEncoder
    private var cache: [(placement: ImagePlacement, overlay: TerminalOverlay)] = []

    public init(encoder: SixelEncoder = SixelEncoder()) {
        self.encoder = encoder
    }

    public func overlays(for placements: [ImagePlacement]) -> [TerminalOverlay] {
        var next: [(placement: ImagePlacement, overlay: TerminalOverlay)] = []
        for placement in placements {
            if let hit = cache.first(where: { $0.placement == placement }) {
                next.append(hit)
            } else {
                let overlay = TerminalOverlay(rect: placement.rect,
                                              pixelSize: Size(width: placement.image.width, height: placement.image.height),
                                              bytes: encoder.encode(placement.image))
                next.append((placement, overlay))
            }
        }
        cache = next
        return next.map(\.overlay)
    }
}
