import Engine
import Foundation
import Testing
import TestSupport

/// NVIDIA training snapshots (.pkl) read by the restricted unpickler: the official fixtures' pickles
/// (in ../shared, made by NVIDIA's code) and the repo's own small one (tools/make_checkpoint_fixtures.py).
@Suite("NVIDIA network pickles")
struct NetworkSnapshotTests {
    static func shared(_ fixture: String, _ file: String) -> String {
        (Fixtures.shared?.appendingPathComponent("fixtures/stylegan2/\(fixture)/\(file)").path) ?? ""
    }

    static func tensors(_ file: SafeTensorsFile) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for name in file.names { out[name] = try file.tensor(name) }
        return out
    }

    static func expectSameBits(_ ours: [String: Tensor], _ reference: [String: Tensor], _ what: String) {
        #expect(Set(ours.keys) == Set(reference.keys), "\(what): names differ")
        for (name, t) in reference {
            guard let mine = ours[name] else { continue }
            #expect(sameBits(mine, t), "\(what): tensor '\(name)' differs")
        }
    }

    @Test(
        .enabled(if: Fixtures.shared != nil, "../shared is absent: the official network.pkl fixtures live there"),
        arguments: ["tiny32", "small64"])
    func officialPickleMatchesTheSafetensorsBitForBit(fixture: String) throws {
        let snapshot = try NetworkSnapshot(path: Self.shared(fixture, "network.pkl"))
        Self.expectSameBits(
            snapshot.generatorTensors, try Self.tensors(SafeTensorsFile(path: Self.shared(fixture, "weights.safetensors"))), "G_ema")
        let d = try #require(snapshot.discriminatorTensors)
        Self.expectSameBits(d, try Self.tensors(SafeTensorsFile(path: Self.shared(fixture, "discriminator.safetensors"))), "D")

        let json = try Data(contentsOf: URL(fileURLWithPath: Self.shared(fixture, "config.json")))
        let config = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        let c = snapshot.config
        #expect(c.zDim == config["z_dim"] as? Int)
        #expect(c.wDim == config["w_dim"] as? Int)
        #expect(c.imgResolution == config["img_resolution"] as? Int)
        #expect(c.imgChannels == config["img_channels"] as? Int)
        #expect(c.mappingLayers == config["mapping_layers"] as? Int)
        #expect(c.channelBase == config["channel_base"] as? Int)
        #expect(c.channelMax == config["channel_max"] as? Int)
        #expect(c.convClamp == (config["conv_clamp"] as? NSNumber)?.floatValue)
        #expect(c.mappingLRMultiplier == 0.01)
    }

    /// Through `GeneratorCheckpoint`, as every command loads: the same images as the safetensors, exactly.
    @Test(
        .enabled(if: Fixtures.shared != nil, "../shared is absent: the official network.pkl fixtures live there"),
        arguments: ["tiny32", "small64"])
    func officialPickleRendersLikeTheSafetensors(fixture: String) throws {
        let pkl = try GeneratorCheckpoint.load(path: Self.shared(fixture, "network.pkl"))
        #expect(pkl.format == "NVIDIA pickle (G_ema)")
        let reference = try Fixtures.generator(fixture)
        #expect(pkl.generator.config == reference.config)
        let ws = try Fixtures.goldenCase(fixture).tensor("ws")
        #expect(pkl.generator.synthesize(ws: ws) == reference.synthesize(ws: ws))
        #expect(pkl.generator.mapping.truncate(ws, psi: 0.7) == reference.mapping.truncate(ws, psi: 0.7))
    }

    /// The repo's own snapshot: protocol 5, EasyDict settings, a numpy scalar, G, D and G_ema.
    @Test func ownSnapshotMatchesItsSafetensors() throws {
        let snapshot = try NetworkSnapshot(path: Fixtures.path("checkpoints/snapshot16.pkl"))
        Self.expectSameBits(
            snapshot.generatorTensors, try Self.tensors(SafeTensorsFile(path: Fixtures.path("checkpoints/official16.safetensors"))),
            "G_ema")
        #expect(snapshot.discriminatorTensors?.keys.sorted() == ["b16.fromrgb.bias", "b16.fromrgb.weight", "b4.out.bias", "b4.out.weight"])
        #expect(snapshot.config == CheckpointConfig(
            zDim: 32, wDim: 32, imgResolution: 16, imgChannels: 3, mappingLayers: 2, channelBase: 256, channelMax: 32, convClamp: 256))
        #expect(snapshot.config.json
            == #"{"z_dim": 32, "w_dim": 32, "img_resolution": 16, "img_channels": 3, "mapping_layers": 2, "channel_base": 256, "channel_max": 32, "conv_clamp": 256}"#)
    }

    @Test func generatorCheckpointSaysWhichFormatItRead() throws {
        #expect(try GeneratorCheckpoint.load(path: Fixtures.path("checkpoints/snapshot16.pkl")).format == "NVIDIA pickle (G_ema)")
        #expect(try GeneratorCheckpoint.load(path: Fixtures.path("checkpoints/rosinality16.pt")).format == "rosinality .pt (g_ema)")
        #expect(try GeneratorCheckpoint.load(path: Fixtures.path("checkpoints/official16.safetensors")).format == "safetensors")
    }
}
