/// NVIDIA's `Generator`: mapping network + synthesis network, with the checkpoint's configuration.
public struct Generator: Sendable {
    public let config: GeneratorConfig
    public var mapping: MappingNetwork
    public var synthesis: SynthesisNetwork

    /// Parameters (not buffers) as NVIDIA counts them.
    public var parameterCount: Int {
        mapping.layers.reduce(0) { $0 + $1.weight.count + $1.bias.count }
            + synthesis.parameterShapes().reduce(0) { $0 + $1.1.reduce(1, *) }
    }

    public init(config: GeneratorConfig, mapping: MappingNetwork, synthesis: SynthesisNetwork) {
        self.config = config
        self.mapping = mapping
        self.synthesis = synthesis
    }

    /// img [N, C, R, R] = G(z [N, z_dim]); a convenience that allocates its own workspace.
    public func callAsFunction(
        z: Tensor, truncationPsi psi: Float = 1, truncationCutoff cutoff: Int? = nil, noise: NoiseMode = .const
    ) -> Tensor {
        let ws = mapping(z, truncationPsi: psi, truncationCutoff: cutoff)
        return synthesis.forward(ws, noise: noise, workspace: SynthesisWorkspace(network: synthesis, batch: z.shape[0]))
    }

    /// img [N, C, R, R] from ws [N, num_ws, w_dim]; a convenience that allocates its own workspace.
    public func synthesize(ws: Tensor, noise: NoiseMode = .const) -> Tensor {
        synthesis.forward(ws, noise: noise, workspace: SynthesisWorkspace(network: synthesis, batch: ws.shape[0]))
    }
}
