import ArgumentParser
import Engine

/// `--tune` and its budget, shared by invert, compare and open.
struct TuningOptions: ParsableArguments {
    @Flag(help: "After inverting, tune the generator on each scene around its latents (pivotal tuning); previews, interpolations, exports and metrics then use the tuned scenes.")
    var tune = false
    @Option(help: "Adam steps per tuned scene (the default takes about a minute a scene on 2 cores at 64 px).")
    var tuneSteps: Int = SceneTuningSettings().steps

    func validate() throws {
        if tuneSteps < 1 { throw ValidationError("--tune-steps must be at least 1") }
    }

    var settings: SceneTuningSettings {
        var s = SceneTuningSettings()
        s.steps = tuneSteps
        return s
    }
}
