import ArgumentParser

/// How previews are drawn: sixel graphics, Unicode half-blocks in colour, an ASCII luminance ramp,
/// or not at all. `--images` overrides what the terminal reports.
public enum ImageMode: String, CaseIterable, Sendable, ExpressibleByArgument {
    case sixel, blocks, ascii, none
}
