/// The image losses the command line can name, and their lookup.
public enum ImageLosses {
    /// Names `named(_:)` accepts, in the order help text lists them.
    public static let names = ["default", "mix", "msssim", "lap", "l1", "mse"]

    /// The loss called `name`: "default" (mix + lap), "mix" (0.84 (1 - MS-SSIM) + 0.16 L1), "msssim"
    /// (1 - MS-SSIM), "lap" (Laplacian-pyramid L1), "l1", "mse".
    public static func named(_ name: String) throws -> any ImageLoss {
        switch name {
        case "default": return WeightedSumLoss.standard()
        case "mix": return WeightedSumLoss.mix()
        case "msssim": return MSSSIMLoss()
        case "lap": return LaplacianPyramidL1Loss()
        case "l1": return L1Loss()
        case "mse": return MSELoss()
        default:
            throw LinstoryError(.invalidValue, "unknown loss \"\(name)\" (known: \(names.joined(separator: ", ")))")
        }
    }
}
