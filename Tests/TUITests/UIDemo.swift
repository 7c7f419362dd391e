import Foundation
import TestSupport

/// The `linstory` binary beside the tests, and whether it has the `ui-demo` command.
enum UIDemo {
    static let binary = Fixtures.repoRoot.appendingPathComponent(".build/release/linstory").path

    static let registered: Bool = {
        guard FileManager.default.isExecutableFile(atPath: binary) else { return false }
        // An unknown subcommand with --help prints the top-level help (and exits 0), so look for
        // ui-demo's own usage line.
        let help = try? ExternalProcess.run([binary, "ui-demo", "--help"], check: false)
        return help?.stdout.contains("USAGE: linstory ui-demo") ?? false
    }()
}
