/// How a scene's generator is tuned around its pivots (pivotal tuning, Roich et al. 2022), and what
/// is stored of it.
///
/// The defaults, measured on the bundled model and clip (`SceneTuningMeasurementTests`): scene 0-23
/// (24 frames), pivots from `scene` at budget 150, the `mse` loss; PSNR of the scene, held-out PSNR
/// (tuned on the even frames only, the odd ones rendered halfway along the pivots' path), seconds on
/// the 2 cores of the development machine with nothing else running, bytes of the stored scene
/// (of the model's 7,408,848):
///
///     untuned                                  22.90 dB  22.06 dB
///     rank 4, 800 steps                        26.41     26.02              205,248 (2.8%)
///     rank 8, 400 steps                        25.85     25.41     31.4 s   378,336 (5.1%)
///     rank 8, 800 steps                        27.11     26.76     58.0 s   378,336 (5.1%)
///     rank 12, 760 steps                       27.32     27.05     56.4 s   551,424 (7.4%)
///     rank 16, 800 steps                       27.65     27.45     63.5 s   724,480 (9.8%)
///
/// Then (pivots at budget 200: untuned 23.18 dB, held-out 22.44), after the two Winograd weight
/// transforms a changed weight needs ran side by side (a step at one frame 54 -> 44 ms):
///
///     rank 12, 760 steps, 2 frames a step      26.56               84.7 s*  (*beside other work)
///     rank 12, 1300 steps, 1 frame a step      27.29     27.16     56.8 s   551,424 (7.4%)
///
/// The same took 62 s an hour later on the same machine (it is a shared VM), so the defaults were
/// 1200 steps, one frame a step, to keep a scene under a minute. Then the Winograd layers' weight
/// gradients moved to the transformed domain (a quarter of the multiply-adds), and 300 steps went
/// from 14.1-17.2 s to 11.8 s; the default became 1500 steps:
///
///     1 frame a step, 1200 steps               27.12     26.29     52.9 s
///     1 frame a step, 1500 steps               27.70     27.05     55.6 s
///
/// With the noise offsets and the log loss, over the clip's 8 scenes, 1500 steps gave 31.94 dB in
/// 62.8 s a scene on a slow day of the VM; 1400 steps 31.80 dB in 56.2 s on the next (quiet, the
/// clip's scenes 51.6-62.6 s), so the default is 1400: a minute a scene with room for a slow day.
///
/// (The held-out column moves by up to 0.7 dB with rounding alone: the same 1200 steps gave 26.95
/// before the change. Compare settings over the whole clip, `LINSTORY_TUNE_SCENE=clip`.)
///
/// Equal CPU time (about 115 s) on that scene: 1 frame a step for 1300 steps 27.29 dB, 2 frames for
/// 760 steps 26.56, no regulariser for 950 steps 28.01 (but images of random latents then change 2.6
/// times as much as the scene's: the regulariser is what keeps the rest of the model), the
/// regulariser every 16 steps (weight x16) 24.59, learning rate 2e-2 25.95.
///
/// A step's cost is the generator's forward and backward with parameter gradients; the rank adds
/// little (rank 16 costs 9% more than rank 8), so the steps are what fit a minute. Also measured
/// (rank 8 unless said): two frames a step beat four at equal time (750 steps 27.12 dB against 450
/// steps 26.62); learning rate 1e-2 beats 3e-3 (26.81 against 25.69 at 700 steps) and 3e-2 is no
/// better at 200 steps; the small tensors at 1e-2 hurt (the loss of the first ten steps doubles:
/// 24.50 dB against 25.24 without them, 200 steps), at 1e-3 they add 0.1 dB; low-rank
/// affine weights (rank 8) add nothing (24.34 against 24.45 at 100 steps) for 49% more bytes; LoRA+'s
/// slower `down` factor (1/16 or 1/4 of the rate) loses 0.4-0.7 dB; `mse` beats the `default` loss
/// in PSNR (25.36 against 24.69 at 200 steps of four frames) and in locality.
public struct SceneTuningSettings: Sendable, Equatable {
    /// Adam steps.
    public var steps = 1400
    /// Frames of the scene per step (fewer when the scene has fewer).
    public var batch = 1
    /// Rank of the low-rank deltas of the modulated convolutions' weights (delta = up [O, r] ·
    /// down [r, I·3·3]); 0 leaves them frozen.
    public var rank = 12
    /// Rank of the low-rank deltas of the affine (style) layers' weights [I, w_dim]; 0 leaves them frozen.
    public var affineRank = 0
    /// Adam's learning rate for the low-rank factors, both: they are scaled (see `TunedScene.initial`)
    /// so that a step moves a weight about as far as it would move a dense one.
    public var learningRate: Float = 1e-2
    /// The last fraction of the steps over which the learning rate falls linearly to 0.
    public var rampDown: Float = 0.25
    /// Tune the full-size small tensors: biases, noise strengths, affine biases, ToRGB weights and the
    /// learned constant (a few thousand values, stored whole).
    public var tuneSmallTensors = true
    /// Adam's learning rate for those small tensors.
    public var smallTensorLearningRate: Float = 1e-3

    /// The locality regulariser's weight: mean squared difference between the tuned and the untuned
    /// generator's images of latents near the pivots, towards random ones (PTI's 0.1); 0 turns it off.
    /// Measured (800 steps, rank 8) by the mean squared change of images of random latents (psi 0.7)
    /// over that of the pivots' images: 0.1 gives 27.12 dB and a ratio of 1.20 (random images change
    /// more than the scene's), 0.3 gives 27.11 dB and 0.54, 1 gives 26.29 dB and 0.41.
    public var localityWeight: Float = 0.3
    /// It runs every this many steps, its weight multiplied by the interval (lazy regularisation:
    /// the same weight on average as PTI's every step).
    public var localityInterval = 4
    /// Latents in each regulariser step.
    public var localityBatch = 2
    /// The regulariser's latents and their untuned images are made once, this many, and cycled
    /// through; 0 draws fresh ones every regulariser step (PTI's way, a forward of the untuned
    /// generator each time). The same quality measured (200 steps of four frames: 25.36 dB and a
    /// locality ratio of 0.63 against 25.31 and 0.67 fresh).
    public var localityPool = 32
    /// How far from the pivot the regulariser's latent lies: PTI's alpha, w_r = w_p + alpha (w_z -
    /// w_p) / |w_z - w_p| over the whole [num_ws, w_dim] tensor, with alpha = this times w_std
    /// (the model's own spread of w, `WStatistics.wStd`) times sqrt(num_ws): for pivots broadcast
    /// from one w, each layer's w moves this many w_std. PTI's 30 is in FFHQ's 512-d W with 18 layers;
    /// here measured (200 steps of four frames, weight 0.1): 0.5 gives a locality ratio of 2.2, 1 gives
    /// 0.63, 2 gives 4.0 (and 0.8 dB less).
    public var localityRadius: Float = 1
    /// Truncation of the random latents w_z towards w_avg (PTI's reference code uses 0.5).
    public var localityPsi: Float = 0.5
    /// A pass over the scene whose mean loss is this many times the best pass's counts as divergence:
    /// the best pass's state comes back at half the learning rate (`SceneTuner`).
    /// Measured on scene 0-23 (1300 steps): 1.5 backed off once where nothing diverged (27.06 dB
    /// against 27.29); 3 left it alone and still caught the clip's scene 100-125 (a pass 15 times worse).
    public var divergence: Float = 3
    /// Minimise the mean of each frame's log loss instead of the mean loss: with `mse`, the scene's
    /// mean PSNR, what the tables report. Each frame's gradient is scaled by (the last pass's mean
    /// loss) / (its loss), at most `logLossMaxWeight`, so the weight against the regulariser stays as
    /// it was and well-fitted frames count for more. Measured over the clip's 8 scenes (pivots from
    /// `scene` at budget 200, 800 steps): mean PSNR 26.78 -> 26.98 dB, 6 scenes better (scene 82-99
    /// by 1.1 dB), two worse by 0.14 and 0.19; scene 0-23 at 1500 steps 27.34 -> 27.77.
    public var logLoss = true
    /// The largest factor `logLoss` gives a frame: a frame the generator already draws almost exactly
    /// would otherwise get an unbounded one.
    public var logLossMaxWeight: Float = 10
    /// Adam's learning rate for the scene's noise offsets (`TunedScene.noiseOffsets`: one map per noise
    /// layer, added to every frame's noise); 0 leaves the noise as the pivots have it. The convolutions
    /// are the same at every pixel, so the offsets are the only per-pixel detail a scene can tune, and
    /// they are shared by the scene's frames (an interpolated frame gets them too). Measured over the
    /// clip's 8 scenes (pivots from `scene` at budget 200, 600 steps): mean PSNR 30.09 dB at 0.1,
    /// 29.73 at 0.03, against 26.98 for 800 steps without them; on scene 0-23 at 300 steps 25.00 dB
    /// without, 27.75 at 0.01, 28.53 at 0.03, 28.86 at 0.1 (held-out 24.52 -> 28.59). A scene whose
    /// camera moves gains nothing (scene 100-125: 22.90 -> 22.76 at 300 steps). 44,504 bytes more a
    /// scene (0.6% of the model).
    public var noiseLearningRate: Float = 0.1
    /// Seeds the frames' order, the low-rank factors' start and the regulariser's latents.
    public var seed: UInt64 = 0

    public init() {}
}
