/// The activations a discriminator's forward exposes, under the names of NVIDIA's modules (and of
/// the fixtures' `block/<name>`): each `DiscriminatorBlock`'s x, then inside the epilogue b4 the
/// minibatch-std layer's, conv's and fc's outputs, then the logits.
public enum DiscriminatorOutput: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// `b<res>`: the block's x, [N, channels(res / 2), res / 2, res / 2].
    case block(resolution: Int)
    /// `b4.mbstd`: [N, C + F, 4, 4], the input with the group's standard deviation appended.
    case mbstd
    /// `b4.conv`: [N, C, 4, 4].
    case conv
    /// `b4.fc`: [N, C].
    case fc
    /// `logits` (`b4.out`): [N, 1].
    case logits

    public var name: String {
        switch self {
        case .block(let r): "b\(r)"
        case .mbstd: "b4.mbstd"
        case .conv: "b4.conv"
        case .fc: "b4.fc"
        case .logits: "logits"
        }
    }

    public var description: String { name }

    /// "b64", "b4.mbstd", "b4.conv", "b4.fc", "logits" (also "b4.out").
    public init?(name: String) {
        switch name {
        case "b4.mbstd": self = .mbstd
        case "b4.conv": self = .conv
        case "b4.fc": self = .fc
        case "logits", "b4.out": self = .logits
        default:
            guard name.hasPrefix("b"), let r = Int(name.dropFirst()), r >= 8, r.nonzeroBitCount == 1 else { return nil }
            self = .block(resolution: r)
        }
    }

    /// Whether this output lies inside the epilogue b4 (so depends on the whole minibatch-std group).
    public var inEpilogue: Bool {
        if case .block = self { return false }
        return true
    }

    /// Execution order: blocks from the largest resolution down, then the epilogue's layers.
    var order: Int {
        switch self {
        case .block(let r): -r
        case .mbstd: 1
        case .conv: 2
        case .fc: 3
        case .logits: 4
        }
    }

    public static func < (a: DiscriminatorOutput, b: DiscriminatorOutput) -> Bool { a.order < b.order }
}
