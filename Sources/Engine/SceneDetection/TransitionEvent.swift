/// A boundary found by one of the detector's tests, before events are chained through flat frames,
/// checked against the video's ends and spaced by the minimum scene length.
struct TransitionEvent: Sendable {
    enum Shape: Sendable { case step, ramp }

    var shape: Shape
    /// First and last transition frame: a hard cut's new frame twice, a ramp's mixed frames.
    var first: Int
    var last: Int
    var score: Float
    /// A clean frame of the shot before and of the shot after, to tell a real change of shot from a
    /// dip to black and back into the same one.
    var before: AnalysisFrame
    var after: AnalysisFrame

    /// The last frame of the old picture and the first of the new one.
    var frameBefore: Int { first - 1 }
    var frameAfter: Int { shape == .step ? first : last + 1 }
}

/// A dissolve or fade candidate: one window [p, q] whose in-between frames fit a blend.
struct BlendCandidate: Sendable {
    var p: Int
    var q: Int
    /// The mixed frames (alpha strictly between 0.05 and 0.95).
    var first: Int
    var last: Int
    var score: Float
    /// The part of the change from P to Q that a change of exposure cannot explain.
    var exposure: Float
    var before: AnalysisFrame
    var after: AnalysisFrame
}

/// Overlapping blend candidates; the best non-overlapping ones are kept once no later window can
/// reach the cluster.
struct BlendCluster: Sendable {
    var candidates: [BlendCandidate]
    var minP: Int
    var maxQ: Int
}

/// Events chained through flat frames into one transition (a fade out, black, a fade in).
struct TransitionChain: Sendable {
    var events: [TransitionEvent]
    /// Frames before this are known to be flat (or to be the picture that ends the chain's run).
    var scanned = 0
}
