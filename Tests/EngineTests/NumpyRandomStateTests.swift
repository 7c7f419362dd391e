import Engine
import Foundation
import Testing

/// `NumpyRandomState` against values numpy itself produced (tools/make_numpy_goldens.py).
/// Comparisons are exact: `generate --seeds` must render the same z as `generate.py`.
@Suite struct NumpyRandomStateTests {
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/numpy").standardized

    private static func golden(_ name: String) throws -> [Double] {
        try NpyArray(contentsOf: fixtures.appendingPathComponent(name).path).doubles()
    }

    @Test func seedingMatchesInitGenrand() throws {
        let expected = try Self.golden("mt_state_seed5489.npy").map { UInt32($0) }
        let state = NumpyRandomState(seed: 5489).state
        #expect(state.key == expected)
        #expect(state.pos == 624)
    }

    @Test func rawOutputsMatchAcrossRegenerations() throws {
        let expected = try Self.golden("uint32_seed0.npy").map { UInt32($0) }
        #expect(expected.count == 1300)
        var rng = NumpyRandomState(seed: 0)
        #expect((0 ..< expected.count).map { _ in rng.nextUInt32() } == expected)
    }

    @Test func doublesMatchRandomSample() throws {
        let expected = try Self.golden("random_sample_seed7.npy")
        var rng = NumpyRandomState(seed: 7)
        #expect((0 ..< expected.count).map { _ in rng.nextDouble() } == expected)
    }

    @Test(arguments: [UInt32(0), 1, 42, 4_294_967_295])
    func randnMatchesNumpy(seed: UInt32) throws {
        let expected = try Self.golden("randn_seed\(seed).npy")
        #expect(expected.count == 513)
        var rng = NumpyRandomState(seed: seed)
        let got = rng.randn(513)
        let firstMismatch = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(firstMismatch == nil, "seed \(seed): first mismatch \(String(describing: firstMismatch))")
    }

    /// `randn(2, 5)` is the flat stream read row-major, as generate.py's `randn(1, z_dim)` relies on.
    @Test func twoDimensionalRandnIsTheFlatStream() throws {
        let array = try NpyArray(contentsOf: Self.fixtures.appendingPathComponent("randn_seed3_2x5.npy").path)
        #expect(array.shape == [2, 5])
        var rng = NumpyRandomState(seed: 3)
        #expect(rng.randn(10) == array.doubles())
    }

    /// The cached second gaussian carries across calls, so splitting a draw changes nothing.
    @Test func cachedGaussianCarriesAcrossCalls() {
        var whole = NumpyRandomState(seed: 42)
        var split = NumpyRandomState(seed: 42)
        let expected = whole.randn(513)
        let parts = split.randn(1) + split.randn(256) + split.randn(3) + split.randn(253)
        #expect(parts == expected)
        #expect(split.randn(0).isEmpty)
    }
}
