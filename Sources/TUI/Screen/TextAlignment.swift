/// Where a line of text sits in the space given to it.
public enum TextAlignment: Sendable {
    case left, center, right
}
