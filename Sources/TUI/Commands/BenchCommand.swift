import ArgumentParser
import Engine
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the generator's forward and forward+backward, and OpenBLAS's sgemm.",
        discussion: """
            CONFIG is default64 (the bundled model's shape), paper256 (the official 256 px shape, random
            weights), a fixture folder holding weights.safetensors, or a model file. With --reference,
            PyTorch timings (JSON lines from shared/bench/torch_reference.py --time) are printed beside
            ours with the ratio. Benchmarks are measurements, not tests: run them on a quiet machine.
            """)

    @Option(parsing: .upToNextOption, help: "Configurations to time.") var config: [String] = ["default64", "paper256"]
    @Option(help: "Batch sizes, e.g. 1,8.") var batch: String = "1,8"
    @Option(help: "Threads (BLAS).") var threads: Int = 2
    @Option(help: "Timed repetitions (median reported).") var reps: Int = 5
    @Flag(help: "One JSON object per line instead of a table.") var json = false
    @Option(help: "PyTorch reference timings (JSON lines) to compare against.") var reference: String?
    @Flag(help: "Skip the sgemm measurement.") var noSgemm = false

    func validate() throws {
        if reps < 1 { throw ValidationError("--reps must be at least 1") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if batches.isEmpty { throw ValidationError("--batch must list positive sizes, e.g. 1,8") }
    }

    var batches: [Int] { batch.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 } }

    func run() throws {
        try BLAS.load()
        Parallel.threads = threads
        var rows: [BenchRow] = []
        var sgemmRate: Double?
        if !noSgemm {
            sgemmRate = SgemmBenchmark.gflops(size: 1024, reps: max(reps, 3))
            if json {
                print(#"{"impl": "linstory", "op": "sgemm", "size": 1024, "gflops": \#(String(format: "%.1f", sgemmRate!)), "threads": \#(threads), "openblas_core": "\#(BLAS.coreName)", "requested_core": "\#(BLAS.requestedCore)", "core_from_environment": \#(BLAS.coreFromEnvironment)}"#)
            }
        }
        for name in config {
            let g = try Self.generator(named: name)
            for n in batches {
                for row in GeneratorBenchmark.measure(g, config: name, batch: n, reps: reps, threads: threads) {
                    if json { print(row.json) } else { rows.append(row) }
                    fflush(nil)
                }
            }
        }
        if json { return }
        let torch = try reference.map(TorchTimings.read) ?? [:]
        print(BenchTable.render(rows: rows, torch: torch, sgemmGFLOPs: sgemmRate, threads: threads))
    }

    static func generator(named name: String) throws -> Generator {
        switch name {
        case "default64": return try Generator.random(Generator.default64Shape)
        case "paper256": return try Generator.random(Generator.paper256Shape)
        default:
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory) else {
                throw LinstoryError(file: name, "no such configuration, folder or model file (try default64 or paper256)")
            }
            let path = isDirectory.boolValue ? (name as NSString).appendingPathComponent("weights.safetensors") : name
            return try GeneratorCheckpoint.load(path: path).generator
        }
    }
}
