import Engine
import Foundation

/// One timing: an op on a configuration at a batch size.
struct BenchRow {
    var config: String
    var batch: Int
    var op: String  // "forward" or "fwd_bwd"
    var times: [Double]  // ms, wall clock
    var cpuTimes: [Double]  // ms of CPU time, all of the process's threads (what the work costs on a busy machine)
    var threads: Int
    var gflopPerFrame: Double  // useful work per frame for this op

    var median: Double { times.sorted()[times.count / 2] }
    var cpuMedian: Double { cpuTimes.sorted()[cpuTimes.count / 2] }
    var perFrame: Double { median / Double(batch) }
    var gflops: Double { gflopPerFrame * Double(batch) / (median / 1000) }

    var json: String {
        String(
            format: #"{"impl": "linstory", "config": "%@", "batch": %d, "op": "%@", "median_ms": %.3f, "min_ms": %.3f, "max_ms": %.3f, "per_frame_ms": %.3f, "cpu_ms": %.3f, "threads": %d, "gflops": %.1f, "openblas_core": "%@"}"#,
            config, batch, op, median, times.min()!, times.max()!, perFrame, cpuMedian, threads, gflops, BLAS.coreName)
    }
}

/// Times synthesis as one projection step uses it: forward with const noise, and forward plus
/// backward to the W+ latents and every noise buffer (the optimiser excluded), like the reference.
enum GeneratorBenchmark {
    static func measure(_ g: Generator, config: String, batch n: Int, reps: Int, threads: Int, winogradFrom: Int) -> [BenchRow] {
        var rng = GaussianNoise(seed: 1)
        let ws = Tensor(shape: [n, g.config.numWs, g.config.wDim]) { p in for i in 0..<p.count { p[i] = rng.next() } }
        let upstream = Tensor(shape: [n, g.config.imgChannels, g.config.imgResolution, g.config.imgResolution]) { p in
            for i in 0..<p.count { p[i] = rng.next() }
        }
        let workspace = SynthesisWorkspace(network: g.synthesis, batch: n, winogradFrom: winogradFrom)
        let flops = g.config.synthesisFLOPs / 1e9
        let forward = timeWithCPU(reps: reps) { _ = g.synthesis.forward(ws, noise: .const, workspace: workspace) }
        let both = timeWithCPU(reps: reps) {
            _ = g.synthesis.forward(ws, noise: .const, workspace: workspace)
            _ = g.synthesis.backward(upstream, workspace: workspace, ws: ws)
        }
        return [
            BenchRow(config: config, batch: n, op: "forward", times: forward.wall, cpuTimes: forward.cpu, threads: threads, gflopPerFrame: flops),
            // The backward to the inputs costs about one more forward's worth of multiply-adds.
            BenchRow(config: config, batch: n, op: "fwd_bwd", times: both.wall, cpuTimes: both.cpu, threads: threads, gflopPerFrame: 2 * flops),
        ]
    }

    /// Wall and process CPU milliseconds of `body`, once to warm up, then `reps` times.
    static func timeWithCPU(reps: Int, _ body: () -> Void) -> (wall: [Double], cpu: [Double]) {
        func cpuNow() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
            return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) / 1e6
        }
        body()
        var wall: [Double] = []
        var cpu: [Double] = []
        for _ in 0..<reps {
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = cpuNow()
            body()
            cpu.append(cpuNow() - cpuStart)
            wall.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return (wall, cpu)
    }

    /// Milliseconds of `body`, once to warm up, then `reps` times.
    static func time(reps: Int, _ body: () -> Void) -> [Double] {
        body()
        return (0..<reps).map { _ in
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
    }
}

/// OpenBLAS's own rate on a square sgemm: the ceiling the generator is measured against.
enum SgemmBenchmark {
    /// OpenBLAS with its own threads (as many as linstory's workers) on one big product: the
    /// machine's practical peak. The generator keeps BLAS single-threaded and splits work itself.
    static func gflops(size n: Int, reps: Int) -> Double {
        BLAS.threads = Parallel.threads
        defer { BLAS.threads = 1 }
        var rng = GaussianNoise(seed: 2)
        let a = Tensor(shape: [n, n]) { p in for i in 0..<p.count { p[i] = rng.next() } }
        var c = Tensor(zeros: [n, n])
        let times = a.withUnsafeBufferPointer { ap in
            c.withUnsafeMutableBufferPointer { cp in
                GeneratorBenchmark.time(reps: reps) {
                    BLAS.sgemm(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: ap.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
                }
            }
        }
        return 2 * Double(n * n * n) / (times.min()! / 1000) / 1e9
    }
}
