// The synthesis network's parameters read and written by their official names
// ("synthesis.b8.conv0.weight", "synthesis.b4.const", ...), the names `parameterShapes()` and the
// backward's `SynthesisGradients.parameters` use: what a tuned scene's deltas are keyed by.

extension SynthesisNetwork {
    /// Where an official parameter name points: a block, a layer in it, and the field.
    private struct ParameterAddress {
        enum Layer { case conv0, conv1, torgb, block }
        var block: Int
        var layer: Layer
        /// "weight", "bias", "noise_strength", "affine.weight", "affine.bias" or "const".
        var field: String
    }

    private func address(_ name: String) -> ParameterAddress? {
        let parts = name.split(separator: ".", maxSplits: 3).map(String.init)
        guard parts.count >= 3, parts[0] == "synthesis", parts[1].hasPrefix("b"), let res = Int(parts[1].dropFirst()),
              let bi = blocks.firstIndex(where: { $0.resolution == res })
        else { return nil }
        if parts.count == 3 { return parts[2] == "const" && bi == 0 ? ParameterAddress(block: bi, layer: .block, field: "const") : nil }
        let field = parts[3]
        let layer: ParameterAddress.Layer
        switch parts[2] {
        case "conv0" where blocks[bi].conv0 != nil: layer = .conv0
        case "conv1": layer = .conv1
        case "torgb": layer = .torgb
        default: return nil
        }
        let fields = layer == .torgb ? ["weight", "bias", "affine.weight", "affine.bias"] : ["weight", "bias", "noise_strength", "affine.weight", "affine.bias"]
        return fields.contains(field) ? ParameterAddress(block: bi, layer: layer, field: field) : nil
    }

    /// The parameter called `name`, or nil when the network has none of that name.
    public func parameter(_ name: String) -> Tensor? {
        guard let a = address(name) else { return nil }
        let b = blocks[a.block]
        if a.layer == .block { return b.const }
        if a.layer == .torgb {
            switch a.field {
            case "weight": return b.torgb.weight
            case "bias": return b.torgb.bias
            case "affine.weight": return b.torgb.affine.weight
            default: return b.torgb.affine.bias
            }
        }
        let l = a.layer == .conv0 ? b.conv0! : b.conv1
        switch a.field {
        case "weight": return l.weight
        case "bias": return l.bias
        case "noise_strength": return l.noiseStrength
        case "affine.weight": return l.affine.weight
        default: return l.affine.bias
        }
    }

    /// Replaces the parameter called `name` (which must exist, with `value`'s shape). A conv layer's
    /// new weight drops that layer's prepared weight transforms (`SynthesisLayer.weight`'s didSet), so
    /// set each weight once per change, never element by element.
    public mutating func setParameter(_ name: String, _ value: Tensor) {
        guard let a = address(name), let old = parameter(name) else { preconditionFailure("no synthesis parameter '\(name)'") }
        precondition(old.shape == value.shape, "'\(name)' is \(old.shape), not \(value.shape)")
        let bi = a.block
        switch (a.layer, a.field) {
        case (.block, _): blocks[bi].const = value
        case (.torgb, "weight"): blocks[bi].torgb.weight = value
        case (.torgb, "bias"): blocks[bi].torgb.bias = value
        case (.torgb, "affine.weight"): blocks[bi].torgb.affine.weight = value
        case (.torgb, _): blocks[bi].torgb.affine.bias = value
        case (.conv0, "weight"): blocks[bi].conv0!.weight = value
        case (.conv0, "bias"): blocks[bi].conv0!.bias = value
        case (.conv0, "noise_strength"): blocks[bi].conv0!.noiseStrength = value
        case (.conv0, "affine.weight"): blocks[bi].conv0!.affine.weight = value
        case (.conv0, _): blocks[bi].conv0!.affine.bias = value
        case (.conv1, "weight"): blocks[bi].conv1.weight = value
        case (.conv1, "bias"): blocks[bi].conv1.bias = value
        case (.conv1, "noise_strength"): blocks[bi].conv1.noiseStrength = value
        case (.conv1, "affine.weight"): blocks[bi].conv1.affine.weight = value
        case (.conv1, _): blocks[bi].conv1.affine.bias = value
        }
    }
}

extension SynthesisNetwork {
    /// Sets the `noiseOffset` of the conv layer whose noise buffer is `name` (an entry of
    /// `noiseLayerNames`, "synthesis.b8.conv0.noise_const"); false when the network has no such layer.
    @discardableResult
    public mutating func setNoiseOffset(_ name: String, _ offset: Tensor?) -> Bool {
        for bi in blocks.indices {
            if blocks[bi].conv0?.noiseName == name {
                blocks[bi].conv0!.noiseOffset = offset
                return true
            }
            if blocks[bi].conv1.noiseName == name {
                blocks[bi].conv1.noiseOffset = offset
                return true
            }
        }
        return false
    }
}
