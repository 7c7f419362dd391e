// The workspace's gradient buffers that a backward allocates on first need: d/d noise per conv
// layer ([N or 1, R, R], following the forward's noise) and d/d every synthesis parameter
// (shaped as `parameterShapes()`, flat).

extension SynthesisNetwork {
    /// d/d noise of conv layer `layerIndex`, `count` floats ([N or 1, R, R]), (re)allocated when its size changed.
    func noiseGradient(_ workspace: SynthesisWorkspace, layerIndex: Int, count: Int) -> UnsafeMutablePointer<Float> {
        let layers = convLayers.count
        if workspace.noiseGradients.count != layers || workspace.noiseGradients[layerIndex].count != count {
            if workspace.noiseGradients.count != layers {
                workspace.noiseGradients = convLayers.map { Buffer(count: $0.resolution * $0.resolution) }
            }
            workspace.noiseGradients[layerIndex] = Buffer(count: count)
        }
        return workspace.noiseGradients[layerIndex].pointer
    }

    /// One flat buffer per synthesis parameter, by official name.
    func allocateParameterGradients(_ workspace: SynthesisWorkspace) {
        for (name, shape) in parameterShapes() { workspace.parameterGradients[name] = Buffer(count: shape.reduce(1, *)) }
    }
}
