/// What the arrows do: move over frames, or scrub along a latent line.
public enum AppMode: Sendable {
    case browse
    case interpolate
}
