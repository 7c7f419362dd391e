import ArgumentParser

@main
struct Linstory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linstory",
        abstract: "Project movies into a StyleGAN2 generator's latent space and inspect the result.",
        subcommands: [OpenCommand.self, InfoCommand.self, GenerateCommand.self, InvertCommand.self, SlurmCommand.self, StatusCommand.self, FinalizeCommand.self, ExportCommand.self, CompareCommand.self, InterpolateCommand.self, BenchCommand.self, ConvertCommand.self, DetectCommand.self, UIDemoCommand.self],
        defaultSubcommand: OpenCommand.self
    )
}
