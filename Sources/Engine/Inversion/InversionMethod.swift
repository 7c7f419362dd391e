/// The methods linstory compares.
public enum InversionMethod: String, Sendable, Codable, CaseIterable {
    /// Every frame on its own from w_avg (NVIDIA's projector).
    case naive
    /// `naive`, then a 5-tap latent filter within each scene: the baseline new methods must beat.
    case smooth
    /// Warm start from the previous frame plus a latent-distance loss; streaming.
    case sequential
    /// Each scene's latents on a straight line (piecewise when one line cannot follow).
    case scene
}
