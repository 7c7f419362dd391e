/// Generator output to 8-bit files, with the official tools' conversion:
/// (x * 127.5 + 128).clamp(0, 255) truncated to uint8.
public enum ImageOutput {
    /// Writes img [1, C, R, R] (C = 1 or 3) as a PNG.
    public static func writePNG(_ img: Tensor, to path: String) throws {
        precondition(img.rank == 4 && img.shape[0] == 1, "one image [1, C, H, W] expected")
        let c = img.shape[1]
        let h = img.shape[2]
        let w = img.shape[3]
        switch c {
        case 3:
            try PNGFile.write(RGBImage(tensor: img.reshaped([3, h, w])), to: path)
        case 1:
            let pixels = img.scalars.map { v -> UInt8 in
                let x = v * 127.5 + 128
                return x.isNaN ? 0 : UInt8(min(max(x, 0), 255))
            }
            try PNGFile.writeGray(pixels, width: w, height: h, to: path)
        default:
            throw LinstoryError(.unsupported, file: path, "cannot write a \(c)-channel image as PNG")
        }
    }
}
