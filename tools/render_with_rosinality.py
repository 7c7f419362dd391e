"""Renders a rosinality-format .pt with rosinality's own generator code, as the reference that
Tests/EngineTests/RosinalityCheckpointTests.swift holds linstory's rendering against.

Needs torch, numpy and a checkout of rosinality/stylegan2-pytorch (never in CI, nothing of it is
copied here):

    python tools/render_with_rosinality.py ~/src/stylegan2-pytorch \\
        Tests/Fixtures/checkpoints/rosinality16.pt Tests/Fixtures/checkpoints/rosinality16-seeds0-3.npy

It imports the checkout's model.py with two changes made in memory: its `op` package (CUDA
extensions) is replaced by the plain PyTorch below, and its fixed channel table by the channels the
checkpoint has (the fixture is 32 channels wide, rosinality's table says 512). The images are
G([z]) with z = numpy RandomState(seed).randn(z_dim) for seeds 0-3, randomize_noise=False (the
stored noise buffers), no truncation: linstory's `generate --seeds 0-3` with const noise.
"""
import math
import re
import sys
import types

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def stand_in_op():
    """The three ops rosinality's model.py imports, in plain PyTorch (CPU)."""
    op = types.ModuleType("op")

    def fused_leaky_relu(x, bias=None, negative_slope=0.2, scale=2 ** 0.5):
        if bias is not None:
            x = x + bias.view(1, -1, *([1] * (x.ndim - 2)))
        return F.leaky_relu(x, negative_slope) * scale

    class FusedLeakyReLU(nn.Module):
        def __init__(self, channel, bias=True, negative_slope=0.2, scale=2 ** 0.5):
            super().__init__()
            self.bias = nn.Parameter(torch.zeros(channel)) if bias else None
            self.negative_slope, self.scale = negative_slope, scale

        def forward(self, x):
            return fused_leaky_relu(x, self.bias, self.negative_slope, self.scale)

    def upfirdn2d(x, kernel, up=1, down=1, pad=(0, 0)):
        """Zero-stuff by `up`, pad, convolve with `kernel` (a true convolution), keep every `down`-th."""
        n, c, h, w = x.shape
        x = x.reshape(n * c, 1, h, w)
        if up > 1:
            stuffed = x.new_zeros(n * c, 1, h * up, w * up)
            stuffed[:, :, ::up, ::up] = x
            x = stuffed
        x = F.pad(x, [pad[0], pad[1], pad[0], pad[1]])
        x = F.conv2d(x, torch.flip(kernel, [0, 1])[None, None])
        x = x[:, :, ::down, ::down]
        return x.reshape(n, c, x.shape[2], x.shape[3])

    op.fused_leaky_relu, op.FusedLeakyReLU, op.upfirdn2d = fused_leaky_relu, FusedLeakyReLU, upfirdn2d
    op.conv2d_gradfix = types.SimpleNamespace(conv2d=F.conv2d, conv_transpose2d=F.conv_transpose2d)
    return op


def main():
    repo, pt, out = sys.argv[1:4]
    state = torch.load(pt, map_location="cpu", weights_only=False)["g_ema"]
    channels = {4 * 2 ** i: state["input.input"].shape[1] if i == 0 else state[f"convs.{2 * i - 1}.conv.weight"].shape[1]
                for i in range(1 + sum(1 for k in state if k.startswith("to_rgbs.") and k.endswith(".conv.weight")))}
    style_dim = state["style.1.weight"].shape[1]
    n_mlp = sum(1 for k in state if re.fullmatch(r"style\.\d+\.weight", k))
    size = max(channels)

    source = open(f"{repo}/model.py").read()
    source, n = re.subn(r"self\.channels = \{[^}]*\}", f"self.channels = {channels!r}", source, count=1)
    assert n == 1, "model.py has no channel table where expected"
    sys.modules["op"] = stand_in_op()
    model = types.ModuleType("rosinality_model")
    exec(compile(source, f"{repo}/model.py", "exec"), model.__dict__)

    g = model.Generator(size, style_dim, n_mlp).eval()
    g.load_state_dict(state, strict=True)
    z = torch.from_numpy(np.stack([np.random.RandomState(s).randn(style_dim) for s in range(4)]).astype(np.float32))
    with torch.no_grad():
        img, _ = g([z], randomize_noise=False)
    np.save(out, img.numpy().astype("<f4"))
    print(out, tuple(img.shape), "range", float(img.max() - img.min()))


if __name__ == "__main__":
    main()
