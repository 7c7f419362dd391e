#!/usr/bin/env python3
"""Writes Tests/Fixtures/lpips/: what Tests/EngineTests/LPIPSTests.swift holds linstory's LPIPSLoss to.

The reference is the `lpips` PyPI package itself (0.1.4, net='vgg', version='0.1'), run with RANDOM
weights so that nothing of the real VGG16 (59 MB) is committed. Run by hand, never in CI:

    ~/.venvs/torchref/bin/pip install lpips==0.1.4 scipy tqdm   # lpips's own imports need scipy, tqdm
    ~/.venvs/torchref/bin/python tools/make_lpips_fixture.py

torchvision is optional. lpips imports it only for `torchvision.models.vgg16(...).features`; PyPI's
torchvision wheels pin the torch they were built with (and pull in the CUDA build), so where it does
not import, a stand-in module is put in sys.modules whose `vgg16().features` is torchvision's
`make_layers(cfgs["D"])` rewritten with the same torch.nn layers (Conv2d 3x3 padding 1, ReLU(inplace),
MaxPool2d(2, 2)), so lpips's slices get the same modules under the same `features.{i}` indices. Either
way the VGG weights are then overwritten with the random ones below.

The random weights (the Swift test regenerates the VGG ones with NumpyRandomState, so keep in step):
- VGG16 `features`: one stream np.random.RandomState(VGG_SEED); for each conv in order features.0, 2,
  5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28: weight = randn(O, I, 3, 3) * sqrt(2 / (I * 9)) (He), then
  bias = randn(O) * BIAS_STD, each computed in float64 and rounded to float32.
- linear layers: RandomState(LIN_SEED), for k in 0..4: rand(1, C_k, 1, 1) (uniform [0, 1), so
  non-negative as the trained ones are), float32. Written as the lpips package writes them
  (an OrderedDict `lin{k}.model.1.weight`), in torch.save's zip format (lin.pth) and in the legacy
  stream (lin-legacy.pth: the format of the real lpips/weights/v0.1/vgg.pth and of torchvision's
  vgg16-397923af.pth); lpips loads lin.pth itself through its `model_path`.
- vgg-wrong-shapes.pth (legacy stream): a state_dict of two VGG-named tensors of the wrong shapes,
  for the loader's error path.

Cases in cases.safetensors, each image pair in [-1, 1] (upsampled noise, tanh-squashed, the second a
mix of the first with another such image, sample s mixing more of the other; a first image whose VGG
forward comes within KINK_MARGIN of a ReLU's or a pool's kink is drawn again): `{case}.x0`, `{case}.x1`
[N, 3, H, W]; `{case}.distance` [N] = lpips(x0, x1, normalize=False); `{case}.per_layer` [5, N] (each
layer's spatial average of its linear layer, retPerLayer=True); `{case}.grad_x0` [N, 3, H, W] =
d sum(distance) / d x0 by torch autograd, all float32.
"""
import argparse
import collections
import os
import sys
import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

VGG_SEED = 1
LIN_SEED = 2
IMAGE_SEED = 3
BIAS_STD = 0.05

# torchvision's cfgs["D"] (VGG16): channel counts and "M" for 2x2 max pools.
CFG_D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
LIN_CHANNELS = [64, 128, 256, 512, 512]
CASES = [("a64", 3, 64, 64), ("b32", 1, 32, 32), ("c36x44", 2, 36, 44)]

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "lpips")


def conv_layers():
    """(feature index, in channels, out channels) of every conv in VGG16's `features`."""
    out, index, cin = [], 0, 3
    for v in CFG_D:
        if v == "M":
            index += 1
        else:
            out.append((index, cin, v))
            cin = v
            index += 2  # conv, relu
    return out


def random_vgg_state_dict(seed=VGG_SEED):
    rs = np.random.RandomState(seed)
    sd = collections.OrderedDict()
    for index, cin, cout in conv_layers():
        w = rs.randn(cout, cin, 3, 3) * np.sqrt(2.0 / (cin * 9))
        b = rs.randn(cout) * BIAS_STD
        sd[f"features.{index}.weight"] = torch.from_numpy(w.astype(np.float32))
        sd[f"features.{index}.bias"] = torch.from_numpy(b.astype(np.float32))
    return sd


def random_lin_state_dict(seed=LIN_SEED):
    rs = np.random.RandomState(seed)
    sd = collections.OrderedDict()
    for k, c in enumerate(LIN_CHANNELS):
        sd[f"lin{k}.model.1.weight"] = torch.from_numpy(rs.rand(1, c, 1, 1).astype(np.float32))
    return sd


def install_torchvision_stand_in():
    """torchvision.models.vgg16 as far as lpips uses it, when the real torchvision does not import."""
    try:
        import torchvision.models  # noqa: F401
        return "torchvision " + sys.modules["torchvision"].__version__
    except Exception:
        pass

    def make_layers(cfg):  # torchvision.models.vgg.make_layers(cfg, batch_norm=False)
        layers, in_channels = [], 3
        for v in cfg:
            if v == "M":
                layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
            else:
                layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                in_channels = v
        return nn.Sequential(*layers)

    def vgg16(pretrained=False, **kwargs):
        assert not pretrained, "the stand-in has no weights"
        model = nn.Module()
        model.features = make_layers(CFG_D)
        return model

    tv = types.ModuleType("torchvision")
    models = types.ModuleType("torchvision.models")
    models.vgg16 = vgg16
    tv.models = models
    sys.modules["torchvision"] = tv
    sys.modules["torchvision.models"] = models
    return "a stand-in for torchvision.models.vgg16 (torchvision does not import here)"


def smooth_images(rs, n, h, w):
    """[n, 3, h, w] in (-1, 1): 8x8 noise upsampled bilinearly, plus a little fine noise, tanh-squashed."""
    coarse = torch.from_numpy(rs.randn(n, 3, 8, 8))
    up = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False).numpy()
    return np.tanh(0.9 * up + 0.15 * rs.randn(n, 3, h, w))


def kink_margin(x0, vgg):
    """How far x0's forward (in float64) stays from VGG's kinks: the smallest |ReLU input| and the
    smallest gap between a pooling window's two largest values (where the largest is positive)."""
    shift = torch.tensor([-.030, -.088, -.188])[None, :, None, None].double()
    scale = torch.tensor([.458, .448, .450])[None, :, None, None].double()
    x = (torch.from_numpy(x0).double() - shift) / scale
    smallest = float("inf")
    for j, (index, _, _) in enumerate(conv_layers()):
        if j in (2, 4, 7, 10):
            n, c, h, w = x.shape
            windows = x[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2)
            top = windows.permute(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4).sort(dim=-1, descending=True)[0]
            gaps = (top[..., 0] - top[..., 1])[top[..., 0] > 0]
            smallest = min(smallest, float(gaps.min()))
            x = F.max_pool2d(x, 2)
        y = F.conv2d(x, vgg[f"features.{index}.weight"].double(), vgg[f"features.{index}.bias"].double(), padding=1)
        smallest = min(smallest, float(y.abs().min()))
        x = torch.relu(y)
    return smallest


# A ReLU input or a pool's top-two gap within float32 rounding of 0 (~1e-7 of the layer's scale,
# ~10) can fall on either side in two correct float32 implementations that sum in other orders
# (OpenBLAS and torch's oneDNN), which reroutes the gradient through a whole receptive field (seen:
# a 5e-7 ReLU input of features.10 moved a quarter of a 32x32 image's gradient by 0.3 %). So every
# prediction image is drawn again until its forward keeps this far from every kink.
KINK_MARGIN = 2e-6


def image_pair(rs, n, h, w, vgg):
    """x0, x1 [n, 3, h, w] float32 and the redraws it took: sample s of x1 mixes 0.15 + 0.35 s of
    another image into x0, plus a little noise, clipped to [-1, 1]."""
    x0s, x1s, redraws = [], [], 0
    for s in range(n):
        mix = 0.15 + 0.35 * s
        while True:
            x0 = smooth_images(rs, 1, h, w).astype(np.float32)
            other = smooth_images(rs, 1, h, w)
            x1 = np.clip((1 - mix) * x0 + mix * other + 0.02 * rs.randn(1, 3, h, w), -1, 1).astype(np.float32)
            if kink_margin(x0, vgg) >= KINK_MARGIN:
                break
            redraws += 1
        x0s.append(x0)
        x1s.append(x1)
    return np.concatenate(x0s), np.concatenate(x1s), redraws


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)  # nothing below draws from torch; eval mode makes dropout the identity

    print("VGG16 from", install_torchvision_stand_in())
    import lpips
    from safetensors.numpy import save_file

    vgg = random_vgg_state_dict()
    lin = random_lin_state_dict()
    lin_path = os.path.join(args.out, "lin.pth")
    torch.save(lin, lin_path)
    torch.save(lin, os.path.join(args.out, "lin-legacy.pth"), _use_new_zipfile_serialization=False)
    wrong = collections.OrderedDict()
    wrong["features.0.weight"] = torch.zeros(64, 3, 3)  # rank 3: no kernel width
    wrong["features.0.bias"] = torch.zeros(32)
    torch.save(wrong, os.path.join(args.out, "vgg-wrong-shapes.pth"), _use_new_zipfile_serialization=False)

    # lpips loads the linear layers from our file, as it loads its own (strict=False: the trunk's keys
    # are not in it), then the trunk's modules get the random VGG weights by their `features` index.
    model = lpips.LPIPS(net="vgg", version="0.1", pretrained=True, pnet_rand=True, model_path=lin_path, verbose=False)
    model.eval()
    modules = {}
    for k in range(1, 6):
        for name, module in getattr(model.net, f"slice{k}").named_children():
            modules[int(name)] = module
    assert sorted(modules) == list(range(30)), sorted(modules)
    with torch.no_grad():
        for key, value in vgg.items():
            _, index, what = key.split(".")
            getattr(modules[int(index)], what).copy_(value)
        for k in range(5):
            assert torch.equal(getattr(model, f"lin{k}").model[1].weight, lin[f"lin{k}.model.1.weight"]), k
            assert isinstance(getattr(model, f"lin{k}").model[0], nn.Dropout)
    assert not model.training

    rs = np.random.RandomState(IMAGE_SEED)
    tensors = {}
    for name, n, h, w in CASES:
        x0, x1, redraws = image_pair(rs, n, h, w, vgg)
        t0 = torch.from_numpy(x0).requires_grad_(True)
        t1 = torch.from_numpy(x1)
        distance, per_layer = model(t0, t1, retPerLayer=True, normalize=False)
        distance.sum().backward()
        tensors[f"{name}.x0"] = x0
        tensors[f"{name}.x1"] = x1
        tensors[f"{name}.distance"] = distance.detach().numpy().reshape(n).astype(np.float32)
        tensors[f"{name}.per_layer"] = np.stack([r.detach().numpy().reshape(n) for r in per_layer]).astype(np.float32)
        tensors[f"{name}.grad_x0"] = t0.grad.numpy().astype(np.float32)
        g = t0.grad.abs()
        print(f"{name} [{n}, 3, {h}, {w}] ({redraws} redraws): distance {tensors[f'{name}.distance']}, |grad| max {g.max():.3e} mean {g.mean():.3e}")
    metadata = {
        "made_by": "tools/make_lpips_fixture.py",
        "lpips": getattr(lpips, "__version__", "0.1.4"),
        "torch": torch.__version__,
        "vgg_seed": str(VGG_SEED), "lin_seed": str(LIN_SEED), "image_seed": str(IMAGE_SEED), "bias_std": str(BIAS_STD),
    }
    path = os.path.join(args.out, "cases.safetensors")
    save_file(tensors, path, metadata=metadata)
    total = 0
    for f in sorted(os.listdir(args.out)):
        size = os.path.getsize(os.path.join(args.out, f))
        total += size
        print(f"  {f}: {size} bytes")
    print(f"wrote {args.out} ({total} bytes)")


if __name__ == "__main__":
    main()
