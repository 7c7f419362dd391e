/// A size in terminal cells (or in pixels, where a doc comment says so).
public struct Size: Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public static let zero = Size(width: 0, height: 0)

    /// "80 x 24", the way the too-small screen and the tests write sizes.
    public var description: String { "\(width) x \(height)" }

    /// True when both sides are at least those of `other`.
    public func covers(_ other: Size) -> Bool { width >= other.width && height >= other.height }
}
