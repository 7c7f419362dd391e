/// Where inversion reads its targets: any range of the clip's frames at a time, as [n, C, R, R] in
/// [-1, 1]. A run asks for a scene, a batch or a frame when it needs it, so what it holds is bounded
/// by the work in flight, not the clip: a film's frames stay in its frame store.
public protocol TargetFrames: Sendable {
    /// Frames in the clip.
    var count: Int { get }
    /// [C, R, R] of one frame: what a range's tensor holds per frame.
    var frameShape: [Int] { get }
    func targets(_ range: Range<Int>) throws -> Tensor
}

/// Targets already in memory (tests, a short clip): [F, C, R, R].
public struct InMemoryTargets: TargetFrames {
    public let tensor: Tensor

    public init(_ tensor: Tensor) { self.tensor = tensor }

    public var count: Int { tensor.shape[0] }
    public var frameShape: [Int] { Array(tensor.shape.dropFirst()) }
    public func targets(_ range: Range<Int>) throws -> Tensor { tensor.slice(range) }
}

/// Targets read from a frame store as they are needed, as RGB or (one channel) luma.
public struct StoredTargets: TargetFrames {
    public let store: TargetStore
    public let channels: Int

    public init(store: TargetStore, channels: Int) {
        self.store = store
        self.channels = channels
    }

    public var count: Int { store.count }
    public var frameShape: [Int] { [channels, store.header.resolution, store.header.resolution] }
    public func targets(_ range: Range<Int>) throws -> Tensor { try store.targets(range, channels: channels) }
}
