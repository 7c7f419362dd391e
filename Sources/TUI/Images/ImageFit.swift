/// Sizing an image into a space while keeping its aspect ratio.
public enum ImageFit {
    /// The largest size with the image's aspect ratio that fits in `box` (same units for both),
    /// never zero on a side when the box is not empty.
    public static func fitted(width: Int, height: Int, into box: Size) -> Size {
        guard width > 0, height > 0, box.width > 0, box.height > 0 else { return .zero }
        let scale = min(Double(box.width) / Double(width), Double(box.height) / Double(height))
        let w = max(1, min(box.width, Int((Double(width) * scale).rounded())))
        let h = max(1, min(box.height, Int((Double(height) * scale).rounded())))
        return Size(width: w, height: h)
    }
}
