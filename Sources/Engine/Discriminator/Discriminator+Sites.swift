// Where the latest forward came close to an lrelu's kink. Two correct float32 implementations that sum
// in different orders can put such an activation on opposite sides of zero, and then their gradients
// differ by the 5x slope there: a parity test against another implementation needs the list.

/// One lrelu output element of a discriminator layer, with its value (lrelu(pre) * act_gain, before
/// any clamp) in the forward that found it.
public struct DiscriminatorActivationSite: Sendable, Hashable, CustomStringConvertible {
    /// The layer's official name: "b64.fromrgb", "b32.conv0", "b32.conv1", "b4.conv", "b4.fc".
    public var layer: String
    public var channel: Int
    public var sample: Int
    /// Flat index in the channel's grid (0 for b4.fc).
    public var pixel: Int
    public var value: Float
    /// What multiplied lrelu(pre) to give `value` (so pre = value / gain, or / (0.2 gain) below zero).
    public var gain: Float

    public var description: String { "\(layer) channel \(channel) sample \(sample) pixel \(pixel)" }
}

extension Discriminator {
    /// The lrelu outputs of the latest forward within `threshold` of zero (as far as it ran).
    public func activationsNearZero(threshold: Float, workspace ws: DiscriminatorWorkspace) -> [DiscriminatorActivationSite] {
        guard let through = ws.forwardThrough else { return [] }
        let n = ws.batch
        var sites: [DiscriminatorActivationSite] = []
        func scan(_ l: Conv2dLayer, _ y: Buffer, resolution r: Int) {
            let hw = r * r
            for o in 0..<l.outChannels {
                for s in 0..<n {
                    for p in 0..<hw {
                        let v = y.pointer[(o * n + s) * hw + p]
                        if abs(v) < threshold {
                            sites.append(DiscriminatorActivationSite(layer: l.name, channel: o, sample: s, pixel: p, value: v, gain: l.activationGain))
                        }
                    }
                }
            }
        }
        for (bi, b) in blocks.enumerated() {
            let st = ws.blocks[bi]
            if let rgb = b.fromrgb, let y = st.rgb { scan(rgb, y, resolution: b.resolution) }
            scan(b.conv0, st.h, resolution: b.resolution)
            scan(b.conv1, st.z, resolution: b.resolution / 2)
            if through == .block(resolution: b.resolution) { return sites }
        }
        if through >= .conv { scan(epilogue.conv, ws.conv, resolution: 4) }
        if through >= .fc {
            let c = epilogue.channels
            for s in 0..<n {
                for j in 0..<c where abs(ws.fc.pointer[s * c + j]) < threshold {
                    sites.append(
                        DiscriminatorActivationSite(
                            layer: "b4.fc", channel: j, sample: s, pixel: 0, value: ws.fc.pointer[s * c + j], gain: Float(2).squareRoot()))
                }
            }
        }
        return sites
    }
}
