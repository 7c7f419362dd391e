import Engine
import Foundation
import Testing
import TestSupport

/// Workers split every phase into fixed parts, so a forward + backward repeated on the same inputs
/// must give the same bits every time. A part that writes where another part still reads shows up
/// here as a run that differs: the up-sampling layers' tap planes once did, when a batch's last GEMM
/// chunk was shorter than the others (22% of forwards differed at batch 3 in chunks of 2).
@Suite("Parallel phases are deterministic")
struct ParallelDeterminismTests {
    @Test func repeatedStepsGiveTheSameBits() throws {
        let g = try GeneratorCheckpoint.load(path: Fixtures.repoRoot.appendingPathComponent("assets/bbb64.safetensors").path).generator
        let batch = 3
        // Chunks of 2 samples in the 64 px up-sampling layer (9 * 64 tap rows of 32 x 32): a short last
        // chunk. Two workers on every phase whatever the machine or LINSTORY_THREADS says (with one,
        // everything would run inline and no two parts could ever race).
        let workspace = SynthesisWorkspace(
            network: g.synthesis, batch: batch, chunkBudget: 2 * 9 * 64 * 32 * 32, minimumFLOPsPerWorker: 0, threads: 2)
        #expect(workspace.threads == 2)
        var rng = TestRandom(seed: 5)
        let ws = Tensor(shape: [batch, g.config.numWs, g.config.wDim], values: rng.normals(batch * g.config.numWs * g.config.wDim, scale: 0.5))
        let gradImage = Tensor(shape: [batch, 3, 64, 64], values: rng.normals(batch * 3 * 64 * 64))
        func step() -> [Float] {
            let image = g.synthesis.forward(ws, workspace: workspace)
            let grads = g.synthesis.backward(gradImage, workspace: workspace, ws: ws)
            return image.scalars + grads.ws.scalars
        }
        let first = step()
        var differing = 0
        for _ in 0..<60 where step() != first { differing += 1 }
        #expect(differing == 0, "\(differing) of 60 repeats differ from the first")
    }
}
