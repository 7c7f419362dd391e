import ArgumentParser
import Engine
import Foundation

/// What `invert` takes and `slurm` passes on to each of its tasks: the video, the model, the session
/// folder, the method and its settings. One declaration, so an option means the same to both, and
/// `arguments` gives them back as a command line (the tasks' `linstory invert ...`).
struct InversionOptions: ParsableArguments {
    @Argument(help: "A video file or a folder of PNGs.") var video: String
    @Option(help: "The generator checkpoint.") var model: String
    @Option(help: "naive, smooth, sequential or scene.") var method: InversionMethod = .scene
    @Option(help: "The session folder.") var out: String
    @Option(help: "Evaluations per frame (default 200; --steps is the same for naive).") var budget: Int?
    @Option(help: "Steps per frame for naive/smooth (an alias of --budget).") var steps: Int?
    @Option(help: "w, w+, or w+fine (W+ with the fine layers shared per scene).") var space: LatentSpace = .wPlus
    @Option(help: "Scene cuts (JSON or PySceneDetect CSV); detected when absent.") var cuts: String?
    @Option(help: "Frames A:B (A included, B excluded).") var frames: FrameWindow?
    @Option(help: "center-crop, letterbox or stretch.") var fit: FitPolicy = .centerCrop
    @Option(help: "Image loss: \(ImageLosses.grammar).") var loss: String = "default"
    @OptionGroup var lossFiles: LossFileOptions
    @Option(name: .customLong("init"), help: "Start from these latents (.npz with key w, like projected_w.npz or an export; or .npy): one for every frame, or one per frame.")
    var initial: String?
    @Flag(help: "Keep the model's constant noise instead of optimising noise maps.") var noNoise = false
    @Option(help: "scene: knots a scene's path may bend at (0: one straight line per scene).") var maxKnots: Int = InversionSettings().maxKnots
    @Option(help: "Weight of the Gaussianized-W prior (0 = off).") var prior: Float = 0
    @Option(help: "Frames per generator batch.") var batch: Int = 8
    @Option(help: "Seed for noise initialisation.") var seed: UInt64 = 0
    @Option(help: "sequential: steps per warm-started frame, given outright instead of a share of --budget; fractions spread evenly (2.75: three frames in four get 3). 2.75 runs the bundled model in real time.")
    var warmSteps: Double?
    @Option(help: "sequential with --warm-steps: steps at each scene's first frame (default 10 x --warm-steps).") var firstSteps: Int?

    static let defaultBudget = 200

    func validate() throws {
        if let b = budget ?? steps, b < 1 { throw ValidationError("--budget must be at least 1") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if maxKnots < 0 { throw ValidationError("--max-knots must be 0 or more") }
        if (warmSteps != nil || firstSteps != nil) && method != .sequential {
            throw ValidationError("--warm-steps and --first-steps are for --method sequential")
        }
        if firstSteps != nil && warmSteps == nil { throw ValidationError("--first-steps needs --warm-steps") }
        if let w = warmSteps, !(w >= 1 && w <= 10_000) { throw ValidationError("--warm-steps must be between 1 and 10000") }
        if let f = firstSteps, f < 1 { throw ValidationError("--first-steps must be at least 1") }
    }

    var schedule: SequentialProjector.Schedule? {
        warmSteps.map { SequentialProjector.Schedule(warm: $0, first: firstSteps ?? Int((10 * $0).rounded())) }
    }

    var settings: InversionSettings {
        var settings = InversionSettings()
        settings.space = space
        settings.optimizeNoise = !noNoise
        settings.priorWeight = prior
        settings.batch = batch
        settings.seed = seed
        settings.maxKnots = maxKnots
        return settings
    }

    /// The run these options describe.
    var run: SessionRun {
        var run = SessionRun(method: method, budget: budget ?? steps ?? Self.defaultBudget, settings: settings, lossName: loss)
        run.sequentialSchedule = schedule
        run.lossFiles = lossFiles.files(loss: loss, model: model)
        run.initialLatents = initial
        return run
    }

    /// Stops on a missing or wrong loss weight file or `--init` file before any decode.
    func checkFiles(generator g: Generator) throws {
        try lossFiles.check(loss: loss, model: model, initial: initial, generator: g)
    }

    /// The options as a command line, paths made absolute (a task starts in another folder).
    var arguments: [String] {
        func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
        var a = [absolute(video), "--model", absolute(model), "--method", method.rawValue, "--out", absolute(out)]
        if let budget { a += ["--budget", String(budget)] }
        if let steps { a += ["--steps", String(steps)] }
        a += ["--space", space.rawValue]
        if let cuts { a += ["--cuts", absolute(cuts)] }
        if let frames { a += ["--frames", "\(frames.lower):\(frames.upper.map(String.init) ?? "")"] }
        a += ["--fit", fit.rawValue, "--loss", loss]
        a += lossFiles.files(loss: loss, model: model).arguments
        if let initial { a += ["--init", absolute(initial)] }
        if noNoise { a.append("--no-noise") }
        a += ["--prior", "\(prior)", "--batch", String(batch), "--seed", String(seed)]
        if let warmSteps { a += ["--warm-steps", "\(warmSteps)"] }
        if let firstSteps { a += ["--first-steps", String(firstSteps)] }
        return a
    }
}
