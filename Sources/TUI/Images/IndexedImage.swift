/// An image as palette indices, the form sixel encodes: `indices` is `[height, width]`, row-major.
public struct IndexedImage: Equatable, Sendable {
    public struct Color: Hashable, Sendable {
        public var r: UInt8
        public var g: UInt8
        public var b: UInt8
        public init(r: UInt8, g: UInt8, b: UInt8) { self.r = r; self.g = g; self.b = b }
    }

    public let width: Int
    public let height: Int
    public var palette: [Color]
    public var indices: [UInt16]

    public init(width: Int, height: Int, palette: [Color], indices: [UInt16]) {
        precondition(indices.count == width * height, "\(indices.count) indices for \(width)x\(height)")
        self.width = width
        self.height = height
        self.palette = palette
        self.indices = indices
    }
}
