import ArgumentParser
import Engine
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the generator's forward and forward+backward, and OpenBLAS's sgemm.",
        discussion: """
            CONFIG is default64 (the bundled model's shape), paper256 (the official 256 px shape, random
            weights), narrow256 (256 px, every per-frame tensor of paper256 but narrow channels), a fixture folder holding weights.safetensors, or a model file. With --torch-python,
            the PyTorch reference is timed on each configuration and batch right before linstory, and
            printed beside it with the ratio; with --reference, timings it wrote earlier (JSON lines from
            shared/bench/torch_reference.py --time) are. Benchmarks are measurements, not tests: run
            them on a quiet machine.
            """)

    @Option(parsing: .upToNextOption, help: "Configurations to time.") var config: [String] = ["default64", "paper256"]
    @Option(help: "Batch sizes, e.g. 1,8.") var batch: String = "1,8"
    @Option(help: "Threads (BLAS).") var threads: Int = 2
    @Option(help: "Timed repetitions (median reported).") var reps: Int = 5
    @Flag(help: "One JSON object per line instead of a table.") var json = false
    @Option(help: "PyTorch reference timings (JSON lines) to compare against.") var reference: String?
    @Option(help: "A Python with torch, numpy and safetensors: time the reference (--torch-script) on each configuration and batch right before linstory.")
    var torchPython: String?
    @Option(help: "The reference for --torch-python.") var torchScript: String = "../shared/bench/torch_reference.py"
    @Flag(help: "Skip the sgemm measurement.") var noSgemm = false
    @Option(help: "Plain 3x3 layers at this resolution and up convolve by Winograd F(4x4, 3x3) (0: none; to see what it gains).")
    var winogradFrom: Int = SynthesisWorkspace.defaultWinogradFrom
    @Flag(help: "Time the sequential method on a clip instead (frames per second, PSNR against naive).") var sequential = false
    @Option(help: "--sequential: the clip (default: the bundled one).") var video: String?
    @Option(help: "--sequential: the model (default: the bundled one).") var model: String?
    @Option(help: "--sequential: warm steps per frame to try, e.g. 1,2,2.75,4 (fractions spread evenly over the frames).") var warmSteps: String = "1,2,4"
    @Option(help: "--sequential: steps at each scene's first frame.") var firstSteps: Int = 100
    @Option(help: "--sequential: naive's steps (its default budget) and every how many frames it runs.") var naiveSteps: Int = InversionOptions.defaultBudget
    @Option(help: "--sequential: naive runs on every Nth frame.") var naiveStride: Int = 10
    @Option(help: "Time the film's one decode instead: a bare ffmpeg decode of this video, detection, and detection filling the frame store.")
    var decode: String?
    @Option(help: "--decode: the frame store's resolution.") var resolution: Int = 256
    @Option(help: "--decode: a PySceneDetect `scenedetect` to time beside (its detect-adaptive).") var scenedetect: String?
    @Option(help: "Write a checkpoint with random weights of the first --config's shape to this safetensors file instead (the memory benchmark's model).")
    var writeModel: String?

    func validate() throws {
        if reps < 1 { throw ValidationError("--reps must be at least 1") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if batches.isEmpty { throw ValidationError("--batch must list positive sizes, e.g. 1,8") }
    }

    var batches: [Int] { batch.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 } }

    func run() throws {
        try BLAS.load()
        Parallel.threads = threads
        if sequential { return try runSequential() }
        if let writeModel {
            guard let name = config.first, let shape = Self.shapes[name] else {
                throw ValidationError("--write-model takes one of: \(Self.shapes.keys.sorted().joined(separator: ", "))")
            }
            let tensors = Generator.randomTensors(shape).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            let config = #"{"conv_clamp": \#(shape.convClamp.map { "\($0)" } ?? "null"), "mapping_lr_multiplier": \#(shape.mappingLRMultiplier)}"#
            try SafeTensorsWriter.write(tensors, metadata: ["config": config, "note": "random weights (linstory bench --write-model \(name))"], to: writeModel)
            print("\(writeModel): \(name), \(shape.imgResolution) px, random weights")
            return
        }
        if let decode {
            print(try DecodeBenchmark.run(video: decode, resolution: resolution, reps: reps, scenedetect: scenedetect), terminator: "")
            return
        }
        var rows: [BenchRow] = []
        var sgemmRate: Double?
        if !noSgemm {
            sgemmRate = SgemmBenchmark.gflops(size: 1024, reps: max(reps, 3))
            if json {
                print(#"{"impl": "linstory", "op": "sgemm", "size": 1024, "gflops": \#(String(format: "%.1f", sgemmRate!)), "threads": \#(threads), "openblas_core": "\#(BLAS.coreName)", "requested_core": "\#(BLAS.requestedCore)", "core_from_environment": \#(BLAS.coreFromEnvironment)}"#)
            }
        }
        var torch = try reference.map(TorchTimings.read) ?? [:]
        for name in config {
            let g = try Self.generator(named: name)
            for n in batches {
                if let torchPython {
                    // Interleaved, so that a load that comes and goes on a shared machine meets both sides.
                    let measured = try TorchTimings.measure(python: torchPython, script: torchScript, config: name, batch: n, threads: threads, reps: reps)
                    torch.merge(measured.timings) { $1 }
                    if json { measured.lines.forEach { print($0) } }
                }
                for row in GeneratorBenchmark.measure(g, config: name, batch: n, reps: reps, threads: threads, winogradFrom: winogradFrom > 0 ? winogradFrom : Int.max) {
                    if json { print(row.json) } else { rows.append(row) }
                    fflush(nil)
                }
            }
        }
        if json { return }
        print(BenchTable.render(rows: rows, torch: torch, sgemmGFLOPs: sgemmRate, threads: threads))
    }

    func runSequential() throws {
        let modelPath = model ?? SessionLocation.bundledModel
        let videoPath = video ?? SessionLocation.bundledClip
        let context = try ModelContext(model: modelPath)
        let g = context.generator
        let clip = try ClipTargets.read(video: videoPath, resolution: g.config.imgResolution, channels: g.config.imgChannels, fit: .centerCrop, window: nil)
        let cuts = try SceneDetector.detect(video: videoPath, folderFPS: clip.info.fps).cuts
        let steps = warmSteps.split(separator: ",").compactMap { Double($0) }.filter { $0 >= 1 }
        let bench = SequentialBenchmark(warmSteps: steps, firstSteps: firstSteps, naiveSteps: naiveSteps, naiveStride: max(1, naiveStride))
        let rows = try bench.measure(generator: g, statistics: context.statistics, targets: clip.targets, scenes: cuts.scenes)
        if json {
            for r in rows { print(r.json) }
        } else {
            print("\(videoPath), \(clip.targets.shape[0]) frames, \(cuts.cuts.count) cuts, \(threads) threads")
            print(SequentialBenchmark.table(rows))
        }
    }

    static let shapes = ["default64": Generator.default64Shape, "paper256": Generator.paper256Shape, "narrow256": Generator.narrow256Shape]

    static func generator(named name: String) throws -> Generator {
        if let shape = shapes[name] { return try Generator.random(shape) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory) else {
            throw LinstoryError(.notFound, file: name, "no such configuration, folder or model file (try \(shapes.keys.sorted().joined(separator: ", ")))")
        }
        let path = isDirectory.boolValue ? (name as NSString).appendingPathComponent("weights.safetensors") : name
        return try GeneratorCheckpoint.load(path: path).generator
    }
}
