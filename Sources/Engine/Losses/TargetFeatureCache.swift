import Foundation

/// A learned loss's features of the target from the last call (LPIPS's VGG taps, dfeat's
/// discriminator blocks), so that an optimiser, which calls the loss with the same target every
/// step, runs the network on it once.
///
/// Keyed by the target itself, held here: a `Tensor` is a copy-on-write value, so while this cache
/// holds one, its storage can be neither freed (and its address reused by another tensor) nor
/// changed in place (a caller's write copies it first). The same storage object and shape therefore
/// mean the same values, without a checksum. A target with another storage is compared by value
/// (N 3 H W floats, nothing beside the network), so a caller that rebuilds an equal target every step (a
/// slice of a larger batch, say) still hits.
///
/// One entry: a loss shared by threads with different targets computes more often, never wrongly.
final class TargetFeatureCache<Features>: @unchecked Sendable {
    private let lock = NSLock()
    private var target: Tensor?
    private var features: Features?

    init() {}

    /// The features stored for `target`, when it is the last target (same storage and shape, or equal values).
    func features(for target: Tensor) -> Features? {
        lock.lock()
        defer { lock.unlock() }
        guard let cached = self.target, let features, cached.shape == target.shape else { return nil }
        if cached.storage === target.storage || cached == target { return features }
        return nil
    }

    func store(_ features: Features, for target: Tensor) {
        lock.lock()
        defer { lock.unlock() }
        self.target = target
        self.features = features
    }

    /// Forgets the entry (and frees its memory).
    func clear() {
        lock.lock()
        defer { lock.unlock() }
        target = nil
        features = nil
    }
}
