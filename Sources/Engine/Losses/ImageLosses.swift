import Foundation

/// The image losses the command line can name, and their lookup.
public enum ImageLosses {
    /// Names `named(_:)` accepts, in the order help text lists them.
    /// The losses that need no file, in the order help text lists them ...
    public static let names = ["default", "mix", "msssim", "lap", "l1", "mse"]
    /// ... and those that read weights (`LossFiles`).
    public static let learnedNames = ["d-features", "dfeat", "lpips"]

    /// `d-features`: the default pixel loss plus this weight times `dfeat` (measured on the bundled
    /// clip: README "Perceptual losses").
    /// Naive at 24 steps on frames 0-39, PSNR / SSIM / held-out PSNR: default 17.76 / 0.313 / 15.95;
    /// weight 0.03: 17.95 / 0.319 / 16.83; 0.1: 18.00 / 0.321 / 16.89; 0.3: 17.74 / 0.303 / 16.74;
    /// 1: 17.24 / 0.270 / 16.28; dfeat alone 16.09 / 0.226 / 15.06.
    public static let discriminatorFeatureWeight: Float = 0.1

    /// What `--loss` takes, for help texts.
    public static let grammar = "\((names + learnedNames).joined(separator: ", ")), or a sum of them with weights, e.g. 0.5*l1+lap"

    /// The loss called `name`: "default" (mix + lap), "mix" (0.84 (1 - MS-SSIM) + 0.16 L1), "msssim"
    /// (1 - MS-SSIM), "lap" (Laplacian-pyramid L1), "l1", "mse" (the learned ones need `make`'s files).
    public static func named(_ name: String) throws -> any ImageLoss {
        try make(name, files: LossFiles())
    }

    /// The loss `spec` describes: one name, or a sum of terms `[WEIGHT*]NAME` joined by `+`
    /// ("0.5*l1+lap"), each term a loss `term(_:files:)` knows. A sum keeps `spec` as its name.
    /// `resolution`, when given, is the generator's: a discriminator for another size is refused.
    public static func make(_ spec: String, files: LossFiles, resolution: Int? = nil) throws -> any ImageLoss {
        var cache = Learned(files: files, resolution: resolution)
        let parsed = try terms(spec)
        if parsed.count == 1, !spec.contains("*") { return try term(parsed[0].name, &cache) }
        return WeightedSumLoss(name: spec, try parsed.map { WeightedSumLoss.Term($0.weight, try term($0.name, &cache)) })
    }

    /// The terms of `spec`, `[WEIGHT*]NAME` joined by `+` (names not checked here).
    public static func terms(_ spec: String) throws -> [(weight: Float, name: String)] {
        try spec.split(separator: "+", omittingEmptySubsequences: false).map { raw in
            let part = raw.trimmingCharacters(in: .whitespaces)
            let pieces = part.split(separator: "*", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pieces.count <= 2, let name = pieces.last, !name.isEmpty else {
                throw LinstoryError(.invalidValue, "loss \"\(spec)\": \"\(part)\" is not a term (write WEIGHT*NAME or NAME)")
            }
            guard pieces.count == 2 else { return (1, name) }
            guard let w = Float(pieces[0]), w.isFinite, w > 0 else {
                throw LinstoryError(.invalidValue, "loss \"\(spec)\": the weight \"\(pieces[0])\" is not a positive number")
            }
            return (w, name)
        }
    }

    /// One named loss.
    static func term(_ name: String, _ learned: inout Learned) throws -> any ImageLoss {
        switch name {
        case "dfeat": return try learned.discriminatorFeatures()
        case "d-features":
            return WeightedSumLoss(
                name: "d-features", [.init(1, WeightedSumLoss.standard()), .init(discriminatorFeatureWeight, try learned.discriminatorFeatures())])
        case "lpips":
            // Frames over 256 px are area-averaged to 256 first, as NVIDIA's projector does.
            let loss = try learned.lpips()
            return learned.resolution.map { $0 > 256 } == true ? AreaDownsampledLoss(loss, size: 256) : loss
        case "default": return WeightedSumLoss.standard()
        case "mix": return WeightedSumLoss.mix()
        case "msssim": return MSSSIMLoss()
        case "lap": return LaplacianPyramidL1Loss()
        case "l1": return L1Loss()
        case "mse": return MSELoss()
        default:
            throw LinstoryError(.invalidValue, "unknown loss \"\(name)\" (known: \((names + learnedNames).joined(separator: ", ")))")
        }
    }

    /// The learned losses of one spec, each loaded once however many terms name it.
    struct Learned {
        let files: LossFiles
        let resolution: Int?
        private var dfeat: DiscriminatorFeatureLoss?
        private var lpipsLoss: LPIPSLoss?

        init(files: LossFiles, resolution: Int?) {
            self.files = files
            self.resolution = resolution
        }

        mutating func discriminatorFeatures() throws -> DiscriminatorFeatureLoss {
            if let dfeat { return dfeat }
            guard let path = files.discriminator else {
                throw LinstoryError(
                    .invalidValue,
                    "the dfeat and d-features losses need the model's discriminator: give --discriminator FILE (an NVIDIA .pkl carries one; MODEL.discriminator.safetensors beside a safetensors model is found)")
            }
            let d = try DiscriminatorCheckpoint.load(path: path).discriminator
            if let resolution, d.config.imgResolution != resolution {
                throw LinstoryError(
                    .mismatch, file: path, "the discriminator takes \(d.config.imgResolution) px images; the model makes \(resolution) px")
            }
            let loss = DiscriminatorFeatureLoss(discriminator: d)
            dfeat = loss
            return loss
        }

        mutating func lpips() throws -> LPIPSLoss {
            if let lpipsLoss { return lpipsLoss }
            guard let vgg = files.lpipsVGG, let lin = files.lpipsLinear else {
                throw LinstoryError(
                    .invalidValue,
                    "the lpips loss needs two files: --lpips-vgg (torchvision's vgg16-397923af.pth) and --lpips-lin (the lpips package's weights/v0.1/vgg.pth)")
            }
            let loss = try LPIPSLoss(vggPath: vgg, linPath: lin)
            lpipsLoss = loss
            return loss
        }
    }
}
