// What a tuned scene stores: changes to the synthesis network's parameters, keyed by their official
// names, small enough to keep one per scene beside the model (5.1% of the bundled model's bytes with
// the default settings; see `SceneTuningSettings`). Low-rank factors for the large weights, whole
// deltas for the small tensors; everything else is the model's.

/// The deltas of one tuned scene: apply them to the model they were tuned from to get the scene's
/// generator.
public struct TunedScene: Sendable, Equatable {
    /// Low-rank deltas by the weight's official name ("synthesis.b8.conv0.weight").
    public var lowRank: [String: LowRankDelta]
    /// Whole deltas by the parameter's official name, shaped as the parameter.
    public var dense: [String: Tensor]
    /// Changes to the scene's noise maps [R, R] by the layer's noise buffer's official name
    /// ("synthesis.b64.conv1.noise_const"): added to whatever noise a frame is rendered with (its own
    /// maps, or the model's const ones), through `SynthesisLayer.noiseOffset`. The convolutions are
    /// the same at every pixel, so these are the only per-pixel detail a scene can tune.
    public var noiseOffsets: [String: Tensor]
    /// `modelHash` of the synthesis network the deltas were tuned from.
    public var modelHash: String
    /// Free-form notes kept in the file's metadata (the settings it was tuned with, the scene's frames).
    public var notes: [String: String]
    /// What errors name: the file it was read from, else "tuned scene".
    public var source: String

    public init(
        lowRank: [String: LowRankDelta], dense: [String: Tensor], noiseOffsets: [String: Tensor] = [:], modelHash: String, notes: [String: String] = [:],
        source: String = "tuned scene"
    ) {
        self.lowRank = lowRank
        self.dense = dense
        self.noiseOffsets = noiseOffsets
        self.modelHash = modelHash
        self.notes = notes
        self.source = source
    }

    /// The tuned parameters' names, sorted.
    public var parameterNames: [String] { (Array(lowRank.keys) + Array(dense.keys)).sorted() }

    /// Stored values (the factors' and the deltas' elements).
    public var storedValues: Int {
        lowRank.values.reduce(0) { $0 + $1.up.count + $1.down.count } + dense.values.reduce(0) { $0 + $1.count }
            + noiseOffsets.values.reduce(0) { $0 + $1.count }
    }

    /// The tuned value of parameter `name` from its untuned value `base`.
    func value(_ name: String, base: Tensor) -> Tensor {
        if let d = lowRank[name] { return d.added(to: base) }
        guard let delta = dense[name] else { return base }
        var out = base
        delta.withUnsafeBufferPointer { d in out.withUnsafeMutableBufferPointer { o in for i in 0..<o.count { o[i] += d[i] } } }
        return out
    }

    /// Sets every tuned parameter of `tuned` to its value over `base`'s (the same network shapes):
    /// each tensor once, so each conv layer drops its prepared weight transforms once.
    func write(over base: SynthesisNetwork, into tuned: inout SynthesisNetwork) {
        for name in parameterNames { tuned.setParameter(name, value(name, base: base.parameter(name)!)) }
        for (name, offset) in noiseOffsets { tuned.setNoiseOffset(name, offset) }
    }

    /// The scene's generator: `generator` (the model the scene was tuned from) with the deltas added.
    /// Refuses, naming the source, deltas whose names or shapes the model lacks and deltas tuned from
    /// another model of the same shapes (they would run, but render nothing of the scene).
    public func apply(to generator: Generator) throws -> Generator {
        try check(against: generator.synthesis)
        var tuned = generator
        write(over: generator.synthesis, into: &tuned.synthesis)
        return tuned
    }

    /// The checks `apply` makes: every name and shape, then the model's hash.
    public func check(against synthesis: SynthesisNetwork) throws {
        for name in parameterNames {
            guard let p = synthesis.parameter(name) else {
                throw LinstoryError(.mismatch, file: source, "tensor '\(name)' has no counterpart in this model (deltas for another model's shapes)")
            }
            let shape = lowRank[name]?.weightShape ?? dense[name]!.shape
            guard p.shape == shape else {
                throw LinstoryError(.mismatch, file: source, "deltas for '\(name)' are for shape \(shape), this model's is \(p.shape) (deltas for another model's shapes)")
            }
        }
        for (name, offset) in noiseOffsets.sorted(by: { $0.key < $1.key }) {
            guard let k = synthesis.noiseLayerNames.firstIndex(of: name) else {
                throw LinstoryError(.mismatch, file: source, "noise offset '\(name)' has no counterpart in this model (deltas for another model's shapes)")
            }
            let r = synthesis.noiseResolutions[k]
            guard offset.shape == [r, r] else {
                throw LinstoryError(.mismatch, file: source, "noise offset '\(name)' is \(offset.shape), this model's noise is [\(r), \(r)] (deltas for another model's shapes)")
            }
        }
        let hash = Self.modelHash(synthesis)
        guard hash == modelHash else {
            throw LinstoryError(.mismatch, file: source, "tuned from another model (synthesis hash \(modelHash), this model's \(hash))")
        }
    }

    /// A 64-bit FNV-1a hash (16 hex digits) of the synthesis network's parameters: names, shapes and
    /// every value's bits, in `parameterShapes()` order. Tells the model a scene was tuned from apart
    /// from another of the same shapes.
    public static func modelHash(_ synthesis: SynthesisNetwork) -> String {
        var h = FNV1a()
        for (name, shape) in synthesis.parameterShapes() {
            // A name's bytes go in as 32-bit words, as the files written so far hashed them.
            for byte in name.utf8 { h.word32(UInt32(byte)) }
            for d in shape { h.word32(UInt32(truncatingIfNeeded: d)) }
            h.floats(synthesis.parameter(name)!)
        }
        return h.hex
    }
}

extension TunedScene {
    /// The gradient of a loss with respect to every stored tensor (factors and deltas), laid out as a
    /// scene: its `lowRank` factors and `dense` deltas hold the gradients. From the dense gradients of
    /// the tuned generator's parameters by official name (`SynthesisGradients.parameters`): a delta's
    /// gradient is its parameter's; a low-rank delta's goes through `LowRankDelta.gradients`.
    /// `noiseGradients` are d/d each noise offset by name, [R, R] (the noise maps' gradients summed over
    /// the frames).
    public func gradients(_ parameterGradients: [String: Tensor], noiseGradients: [String: Tensor]) -> TunedScene {
        var out = self
        for name in noiseOffsets.keys { out.noiseOffsets[name] = noiseGradients[name]! }
        for (name, d) in lowRank {
            let (up, down) = d.gradients(parameterGradients[name]!)
            out.lowRank[name] = LowRankDelta(up: up, down: down)
        }
        for name in dense.keys { out.dense[name] = parameterGradients[name]! }
        return out
    }
}
