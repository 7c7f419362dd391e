import ArgumentParser
import Engine
import Foundation

/// The weight files a learned loss reads, as `invert`, `slurm`, `compare` and `open` take them.
struct LossFileOptions: ParsableArguments {
    @Option(help: "The discriminator for dfeat / d-features: an NVIDIA .pkl or a safetensors file (default: the model when it is a .pkl, else MODEL.discriminator.safetensors beside it).")
    var discriminator: String?
    @Option(help: "lpips: torchvision's VGG16 state_dict (vgg16-397923af.pth).") var lpipsVgg: String?
    @Option(help: "lpips: the lpips package's linear layers (lpips/weights/v0.1/vgg.pth).") var lpipsLin: String?

    /// Builds the loss and reads the latents to start from, so that a missing or wrong file stops the
    /// command in one line before the video is decoded (a film's decode takes minutes) or the UI starts.
    func check(loss: String, model: String, initial: String?, generator g: Generator) throws {
        _ = try ImageLosses.make(loss, files: files(loss: loss, model: model), resolution: g.config.imgResolution)
        if let initial { _ = try LatentsFile.read(path: initial, numWs: g.config.numWs, wDim: g.config.wDim) }
    }

    /// The files, with the discriminator found beside the model when `loss` needs one and none was
    /// given. Absolute paths.
    func files(loss: String, model: String) -> LossFiles {
        LossFiles(discriminator: discriminator, lpipsVGG: lpipsVgg, lpipsLinear: lpipsLin).resolved(loss: loss, model: model).absolute
    }
}

extension LossFiles {
    /// The options that give these files back (a cluster task's command line).
    var arguments: [String] {
        var a: [String] = []
        if let discriminator { a += ["--discriminator", discriminator] }
        if let lpipsVGG { a += ["--lpips-vgg", lpipsVGG] }
        if let lpipsLinear { a += ["--lpips-lin", lpipsLinear] }
        return a
    }
}
