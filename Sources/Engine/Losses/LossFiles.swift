import Foundation

/// The weight files a learned loss reads: the discriminator (`dfeat`, `d-features`) and LPIPS's two
/// files (`lpips`). A session records them with the loss's name, so a resumed run, a cluster task or
/// `finalize` builds the same loss.
public struct LossFiles: Sendable, Codable, Equatable {
    /// A discriminator: an NVIDIA `.pkl` (its `D`) or a safetensors file with the official names.
    public var discriminator: String?
    /// torchvision's VGG16 `state_dict` (`vgg16-397923af.pth`).
    public var lpipsVGG: String?
    /// The `lpips` package's linear layers (`lpips/weights/v0.1/vgg.pth`).
    public var lpipsLinear: String?

    public init(discriminator: String? = nil, lpipsVGG: String? = nil, lpipsLinear: String? = nil) {
        self.discriminator = discriminator
        self.lpipsVGG = lpipsVGG
        self.lpipsLinear = lpipsLinear
    }

    /// The same with every path made absolute (a task starts in another folder).
    public var absolute: LossFiles {
        LossFiles(
            discriminator: discriminator.map(FileIdentity.absolute), lpipsVGG: lpipsVGG.map(FileIdentity.absolute),
            lpipsLinear: lpipsLinear.map(FileIdentity.absolute))
    }
}

extension LossFiles {
    /// The names of the terms of a loss spec ("0.5*l1+lap" has l1 and lap; none when it does not parse).
    public static func termNames(_ spec: String) -> [String] {
        ((try? ImageLosses.terms(spec)) ?? []).map(\.name)
    }

    /// Whether `spec` has a term that reads the discriminator.
    public static func needsDiscriminator(_ spec: String) -> Bool {
        termNames(spec).contains { $0 == "dfeat" || $0 == "d-features" }
    }

    /// These files, with the discriminator filled in when `spec` needs one and none is given: the
    /// model itself when it is an NVIDIA `.pkl` (which carries its D), else
    /// `NAME.discriminator.safetensors` beside `NAME.safetensors` when that file exists (as the
    /// bundled model ships).
    public func resolved(loss spec: String, model: String) -> LossFiles {
        guard discriminator == nil, Self.needsDiscriminator(spec) else { return self }
        var r = self
        if model.hasSuffix(".pkl") {
            r.discriminator = model
        } else {
            let stem = (model as NSString).deletingPathExtension
            let beside = stem + ".discriminator.safetensors"
            if FileManager.default.fileExists(atPath: beside) { r.discriminator = beside }
        }
        return r
    }
}
