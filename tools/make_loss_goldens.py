#!/usr/bin/env python3
"""Writes the loss goldens that Tests/EngineTests/LossGoldenTests.swift compares against.

Run from the repository root:  python3 tools/make_loss_goldens.py
Output: Tests/Fixtures/losses/goldens.json (committed; rerun only to change it). numpy only.

The inputs are not stored: both sides rebuild them from numpy's RandomState (linstory's
NumpyRandomState draws the same numbers) with the formula in `images` and `noise_maps` below, so keep
those in step with the Swift test.

What is computed here, independently of the Swift code:
- MS-SSIM exactly as pytorch-msssim 1.0 (VainF/pytorch-msssim, ssim.py `_ssim` / `ms_ssim`): 11-tap
  Gaussian window (sigma 1.5) applied separably with 'valid' borders, K1 = 0.01, K2 = 0.03, avg_pool2d
  with padding (H % 2, W % 2) between scales, relu on cs and on the last ssim, product of powers, mean
  over channels. Images in [-1, 1] are scored as (x + 1) / 2 in [0, 1] with data_range 1 (the script
  checks that [0, 255] with data_range 255 gives the same numbers). linstory's scale rule: as many of
  the 5 scales as keep the coarsest side >= 11, exponents renormalised to sum to 1.
- The Laplacian-pyramid L1 (GLO's Lap1, per-level means): Burt-Adelson pyramid, kernel
  [1, 4, 6, 4, 1] / 16 with 'reflect' borders, levels while the residual side stays >= 8.
- L1 and MSE per sample.
- NVIDIA's projector.py noise regulariser, with numpy's roll and a floor 2x2 average pool.
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "losses")

WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])


def images(seed, n, c, h, w):
    """prediction, target [n, c, h, w] float32 in [-1, 1]: a sine pattern plus noise, and a noisier copy."""
    rs = np.random.RandomState(seed)
    a = rs.randn(n, c, h, w)
    b = rs.randn(n, c, h, w)
    i = np.arange(h).reshape(1, 1, h, 1)
    j = np.arange(w).reshape(1, 1, 1, w)
    ch = np.arange(c).reshape(1, c, 1, 1)
    s = np.arange(n).reshape(n, 1, 1, 1)
    target = np.clip(0.6 * np.sin(0.21 * i + 0.13 * j + 0.7 * ch + 1.3 * s) + 0.25 * a, -1, 1)
    prediction = np.clip(target + (0.1 + 0.2 * s) * b, -1, 1)
    return prediction.astype(np.float32), target.astype(np.float32)


def noise_maps(seed, shape):
    return np.random.RandomState(seed).randn(*shape).astype(np.float32)


# ----------------------------------------------------------------------------------------- MS-SSIM

def gauss_window(size=11, sigma=1.5):
    coords = np.arange(size, dtype=np.float64) - size // 2
    g = np.exp(-(coords ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def blur_valid(x, g):
    k = len(g)
    h, w = x.shape[-2:]
    t = sum(g[i] * x[..., :, i:w - k + 1 + i] for i in range(k))
    return sum(g[i] * t[..., i:h - k + 1 + i, :] for i in range(k))


def avg_pool_torch(x):
    """F.avg_pool2d(x, kernel_size=2, padding=(H % 2, W % 2)), count_include_pad=True."""
    h, w = x.shape[-2:]
    ph, pw = h % 2, w % 2
    xp = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])
    oh, ow = (h + 2 * ph) // 2, (w + 2 * pw) // 2
    xp = xp[..., :2 * oh, :2 * ow]
    return 0.25 * (xp[..., 0::2, 0::2] + xp[..., 1::2, 0::2] + xp[..., 0::2, 1::2] + xp[..., 1::2, 1::2])


def ssim_and_cs(x, y, data_range):
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    g = gauss_window()
    mu1, mu2 = blur_valid(x, g), blur_valid(y, g)
    s11 = blur_valid(x * x, g) - mu1 * mu1
    s22 = blur_valid(y * y, g) - mu2 * mu2
    s12 = blur_valid(x * y, g) - mu1 * mu2
    cs_map = (2 * s12 + c2) / (s11 + s22 + c2)
    ssim_map = ((2 * mu1 * mu2 + c1) / (mu1 * mu1 + mu2 * mu2 + c1)) * cs_map
    return ssim_map.mean(axis=(-2, -1)), cs_map.mean(axis=(-2, -1))


def scale_count(h, w):
    side, scales = min(h, w), 1
    while scales < 5 and (side + 1) // 2 >= 11:
        side = (side + 1) // 2
        scales += 1
    return scales


def ms_ssim(x, y, data_range):
    """Per sample; x, y float64 [n, c, h, w] in [0, data_range]."""
    scales = scale_count(*x.shape[-2:])
    weights = WEIGHTS[:scales] / WEIGHTS[:scales].sum()
    factors = []
    for i in range(scales):
        ssim, cs = ssim_and_cs(x, y, data_range)
        if i < scales - 1:
            factors.append(np.maximum(cs, 0))
            x, y = avg_pool_torch(x), avg_pool_torch(y)
    factors.append(np.maximum(ssim, 0))
    value = np.prod([f ** wt for f, wt in zip(factors, weights)], axis=0)  # [n, c]
    return value.mean(axis=1), scales


# ----------------------------------------------------------------------------------- Laplacian L1

KERNEL = np.array([1, 4, 6, 4, 1], dtype=np.float64) / 16


def blur_reflect(x):
    h, w = x.shape[-2:]
    p = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(2, 2), (0, 0)], mode="reflect")
    t = sum(KERNEL[i] * p[..., i:i + h, :] for i in range(5))
    p = np.pad(t, [(0, 0)] * (x.ndim - 2) + [(0, 0), (2, 2)], mode="reflect")
    return sum(KERNEL[i] * p[..., :, i:i + w] for i in range(5))


def lap_levels(h, w):
    side, levels = min(h, w), 0
    while (side + 1) // 2 >= 8:
        side = (side + 1) // 2
        levels += 1
    return levels


def lap_l1(x, y):
    d = x - y
    levels = lap_levels(*d.shape[-2:])
    total = np.zeros(d.shape[0])
    g = d
    for _ in range(levels):
        nxt = blur_reflect(g)[..., ::2, ::2]
        up = np.zeros_like(g)
        up[..., ::2, ::2] = nxt
        band = g - 4 * blur_reflect(up)
        total += np.abs(band).mean(axis=(1, 2, 3))
        g = nxt
    total += np.abs(g).mean(axis=(1, 2, 3))
    return total, levels


# ---------------------------------------------------------------------------------- noise regulariser

def noise_reg(noise):
    """projector.py on one [H, W] map."""
    noise = noise.astype(np.float64)
    reg = 0.0
    while True:
        reg += np.mean(noise * np.roll(noise, 1, axis=1)) ** 2
        reg += np.mean(noise * np.roll(noise, 1, axis=0)) ** 2
        if noise.shape[0] <= 8:
            break
        h, w = noise.shape[0] // 2 * 2, noise.shape[1] // 2 * 2
        n = noise[:h, :w]
        noise = 0.25 * (n[0::2, 0::2] + n[1::2, 0::2] + n[0::2, 1::2] + n[1::2, 1::2])
    return reg


IMAGE_CASES = [
    ("a64", 1, 2, 3, 64, 64),
    ("b256", 2, 1, 3, 256, 256),
    ("c45x47", 3, 2, 2, 45, 47),
    ("d11x13", 4, 1, 1, 11, 13),
]

NOISE_CASES = [
    ("n4", 10, [4, 4]),
    ("n8", 11, [8, 8]),
    ("n16", 12, [16, 16]),
    ("n64", 13, [64, 64]),
    ("n17x20", 14, [17, 20]),
    ("stack2x32", 15, [2, 32, 32]),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    out = {"images": [], "noise": []}
    for name, seed, n, c, h, w in IMAGE_CASES:
        p, t = images(seed, n, c, h, w)
        p64, t64 = p.astype(np.float64), t.astype(np.float64)
        msssim, scales = ms_ssim((p64 + 1) / 2, (t64 + 1) / 2, 1.0)
        # The same images as 8-bit-style [0, 255] floats with data_range 255 give the same values.
        as255, _ = ms_ssim((p64 + 1) * 127.5, (t64 + 1) * 127.5, 255.0)
        assert np.allclose(msssim, as255, rtol=1e-12, atol=1e-12), (msssim, as255)
        raw, _ = ms_ssim(p64, t64, 2.0)  # scored on [-1, 1] directly: NOT what linstory computes
        lap, levels = lap_l1(p64, t64)
        out["images"].append({
            "name": name, "seed": seed, "shape": [n, c, h, w],
            "scales": scales, "laplacian_levels": levels,
            "msssim": msssim.tolist(),
            "msssim_unshifted_for_reference": raw.tolist(),
            "laplacian_l1": lap.tolist(),
            "l1": np.abs(p64 - t64).mean(axis=(1, 2, 3)).tolist(),
            "mse": ((p64 - t64) ** 2).mean(axis=(1, 2, 3)).tolist(),
        })
        print(f"{name}: scales {scales}, MS-SSIM {msssim}, on [-1,1] it would be {raw}, lap {lap}")
    for name, seed, shape in NOISE_CASES:
        maps = noise_maps(seed, shape).reshape(-1, shape[-2], shape[-1])
        values = [noise_reg(m) for m in maps]
        out["noise"].append({"name": name, "seed": seed, "shape": shape, "values": values})
        print(f"{name}: {values}")
    path = os.path.join(OUT, "goldens.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
