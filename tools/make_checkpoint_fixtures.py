"""Writes Tests/Fixtures/checkpoints/: small checkpoints in the formats linstory reads, made by real
torch.save / pickle.dump, with no third-party source code in them.

Needs torch and numpy (run by hand, never in CI; `make torch-venv` makes such a Python):

    python tools/make_checkpoint_fixtures.py Tests/Fixtures/checkpoints

One random 16x16 StyleGAN2 generator (z_dim = w_dim = 32, 2 mapping layers, 32/32/16 channels) is
written four ways:
- official16.safetensors: NVIDIA's state_dict names, the layout of the fixtures' weights files;
- snapshot16.pkl: a plain pickle shaped like NVIDIA's training snapshots ({'G', 'D', 'G_ema',
  'augment_pipe', 'training_set_kwargs'}, each network a persistent object made by
  torch_utils.persistence._reconstruct_persistent_obj with dnnlib.util.EasyDict settings). The two
  modules are stand-ins defined here, so that pickle names them as NVIDIA's code does; the embedded
  'module_src' is a placeholder line, not NVIDIA's source;
- rosinality16.pt (zip torch.save) and rosinality16-legacy.pt (the pre-1.6 stream): rosinality's
  train.py checkpoint layout ({'g', 'd', 'g_ema', 'g_optim', 'd_optim', 'args'}), the generator
  renamed as rosinality's model.py names it.

snapshot16.pkl and rosinality16-legacy.pt name their storages by memory address, as torch does in
those formats, so rerunning changes their bytes but not their tensors.
"""
import argparse
import collections
import json
import os
import pickle
import struct
import sys
import types

import numpy as np
import torch

Z = W = 32
CHANNELS = {4: 32, 8: 32, 16: 16}
MAPPING_LAYERS = 2


def official_generator(seed=7):
    """NVIDIA's state_dict names and shapes, random values (biases and strengths perturbed)."""
    g = torch.Generator().manual_seed(seed)
    r = lambda *s, scale=1.0: torch.randn(*s, generator=g) * scale
    f = torch.tensor([1.0, 3.0, 3.0, 1.0])
    f = torch.outer(f, f)
    f = f / f.sum()
    sd = collections.OrderedDict()
    for i in range(MAPPING_LAYERS):
        sd[f"mapping.fc{i}.weight"] = r(W, Z if i == 0 else W, scale=100.0)
        sd[f"mapping.fc{i}.bias"] = r(W, scale=10.0)
    sd["mapping.w_avg"] = r(W, scale=0.3)
    prev = None
    for res, c in CHANNELS.items():
        b = f"synthesis.b{res}"
        if res == 4:
            sd[f"{b}.const"] = r(c, 4, 4)
        sd[f"{b}.resample_filter"] = f.clone()
        for conv in (["conv1"] if res == 4 else ["conv0", "conv1"]):
            cin = prev if conv == "conv0" else c
            sd[f"{b}.{conv}.weight"] = r(c, cin, 3, 3)
            sd[f"{b}.{conv}.noise_strength"] = r((), scale=0.2)
            sd[f"{b}.{conv}.bias"] = r(c, scale=0.2)
            sd[f"{b}.{conv}.resample_filter"] = f.clone()
            sd[f"{b}.{conv}.noise_const"] = r(res, res)
            sd[f"{b}.{conv}.affine.weight"] = r(cin, W)
            sd[f"{b}.{conv}.affine.bias"] = 1 + r(cin, scale=0.1)
        sd[f"{b}.torgb.weight"] = r(3, c, 1, 1)
        sd[f"{b}.torgb.bias"] = r(3, scale=0.1)
        sd[f"{b}.torgb.affine.weight"] = r(c, W)
        sd[f"{b}.torgb.affine.bias"] = 1 + r(c, scale=0.1)
        prev = c
    return sd


def official_discriminator(seed=8):
    g = torch.Generator().manual_seed(seed)
    return collections.OrderedDict(
        [("b16.fromrgb.weight", torch.randn(16, 3, 1, 1, generator=g)), ("b16.fromrgb.bias", torch.randn(16, generator=g)),
         ("b4.out.weight", torch.randn(1, 32, generator=g)), ("b4.out.bias", torch.randn(1, generator=g))])


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset, blobs = 0, []
    for name in sorted(tensors):
        data = tensors[name].contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# --- NVIDIA-shaped snapshot -------------------------------------------------------------------
# Stand-ins named like NVIDIA's modules, so that pickle writes the same global references.
persistence = types.ModuleType("torch_utils.persistence")
util = types.ModuleType("dnnlib.util")
sys.modules.update({"torch_utils": types.ModuleType("torch_utils"), "torch_utils.persistence": persistence,
                    "dnnlib": types.ModuleType("dnnlib"), "dnnlib.util": util})


def _reconstruct_persistent_obj(meta):
    raise RuntimeError("only for pickling")


_reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
persistence._reconstruct_persistent_obj = _reconstruct_persistent_obj


class EasyDict(dict):
    pass


EasyDict.__module__ = "dnnlib.util"
EasyDict.__qualname__ = "EasyDict"
util.EasyDict = EasyDict


class Persistent:
    """Pickles as NVIDIA's persistent classes do: _reconstruct_persistent_obj(meta)."""

    def __init__(self, class_name, state):
        self.class_name, self.state = class_name, state

    def __reduce__(self):
        meta = dict(type="class", version=6, module_src="# linstory test fixture: no source here",
                    class_name=self.class_name, state=self.state)
        return (_reconstruct_persistent_obj, (meta,))


def module(class_name, params=(), buffers=(), modules=(), init_args=(), init_kwargs=None, **attrs):
    state = {"training": False, "_parameters": collections.OrderedDict(params), "_buffers": collections.OrderedDict(buffers),
             "_non_persistent_buffers_set": set(), "_backward_hooks": collections.OrderedDict(),
             "_forward_hooks": collections.OrderedDict(), "_modules": collections.OrderedDict(modules)}
    state.update(attrs)
    state["_init_args"] = tuple(init_args)
    state["_init_kwargs"] = init_kwargs or {}
    return Persistent(class_name, state)


def persistent_generator(sd):
    P = lambda n: torch.nn.Parameter(sd[n].clone(), requires_grad=False)
    B = lambda n: sd[n].clone()
    fc = lambda p: module("FullyConnectedLayer", [("weight", P(p + ".weight")), ("bias", P(p + ".bias"))],
                          init_kwargs={"lr_multiplier": 0.01, "activation": "lrelu"}, weight_gain=np.float64(0.125))
    mapping = module("MappingNetwork", buffers=[("w_avg", B("mapping.w_avg"))],
                     modules=[(f"fc{i}", fc(f"mapping.fc{i}")) for i in range(MAPPING_LAYERS)],
                     init_kwargs={"z_dim": Z, "c_dim": 0, "w_dim": W, "num_ws": 6, "num_layers": MAPPING_LAYERS})

    def layer(p, name):
        affine = module("FullyConnectedLayer", [("weight", P(p + ".affine.weight")), ("bias", P(p + ".affine.bias"))],
                        init_kwargs={"bias_init": 1})
        return module(name, [(k, P(f"{p}.{k}")) for k in ("weight", "noise_strength", "bias")] if name != "ToRGBLayer" else
                      [(k, P(f"{p}.{k}")) for k in ("weight", "bias")],
                      [(k, B(f"{p}.{k}")) for k in ("resample_filter", "noise_const")] if name != "ToRGBLayer" else [],
                      [("affine", affine)])

    blocks = []
    for res in CHANNELS:
        b = f"synthesis.b{res}"
        children = ([] if res == 4 else [("conv0", layer(b + ".conv0", "SynthesisLayer"))])
        children += [("conv1", layer(b + ".conv1", "SynthesisLayer")), ("torgb", layer(b + ".torgb", "ToRGBLayer"))]
        blocks.append((f"b{res}", module("SynthesisBlock", [("const", P(b + ".const"))] if res == 4 else [],
                                         [("resample_filter", B(b + ".resample_filter"))], children)))
    synthesis = module("SynthesisNetwork", modules=blocks)
    kwargs = {"z_dim": Z, "c_dim": 0, "w_dim": W, "img_resolution": 16, "img_channels": 3,
              "mapping_kwargs": EasyDict(num_layers=MAPPING_LAYERS),
              "synthesis_kwargs": EasyDict(channel_base=256, channel_max=32, num_fp16_res=0, conv_clamp=256)}
    return module("Generator", modules=[("mapping", mapping), ("synthesis", synthesis)], init_kwargs=kwargs,
                  z_dim=Z, w_dim=W, num_ws=6)


def persistent_discriminator(sd):
    return module("Discriminator", modules=[
        ("b16", module("DiscriminatorBlock", modules=[("fromrgb", module("Conv2dLayer", [
            ("weight", torch.nn.Parameter(sd["b16.fromrgb.weight"])), ("bias", torch.nn.Parameter(sd["b16.fromrgb.bias"]))]))])),
        ("b4", module("DiscriminatorEpilogue", modules=[("out", module("FullyConnectedLayer", [
            ("weight", torch.nn.Parameter(sd["b4.out.weight"])), ("bias", torch.nn.Parameter(sd["b4.out.bias"]))]))]))],
        init_kwargs={"c_dim": 0, "img_resolution": 16, "img_channels": 3})


# --- rosinality's layout ----------------------------------------------------------------------
def rosinality_state(sd):
    """As rosinality's model.py declares its Generator; see Tests/TestSupport/RosinalityLayout.swift."""
    k = torch.tensor([1.0, 3.0, 3.0, 1.0])
    kernel = torch.outer(k, k) / torch.outer(k, k).sum() * 4  # make_kernel(blur_kernel) * factor ** 2
    out = collections.OrderedDict()
    for i in range(sum(1 for k in sd if k.startswith("mapping.fc") and k.endswith(".weight"))):
        out[f"style.{i + 1}.weight"] = sd[f"mapping.fc{i}.weight"]
        out[f"style.{i + 1}.bias"] = sd[f"mapping.fc{i}.bias"]
    out["input.input"] = sd["synthesis.b4.const"][None]

    def styled(name, p, up):
        out[f"{name}.conv.weight"] = sd[p + ".weight"][None]
        if up:
            out[f"{name}.conv.blur.kernel"] = kernel.clone()
        out[f"{name}.conv.modulation.weight"] = sd[p + ".affine.weight"]
        out[f"{name}.conv.modulation.bias"] = sd[p + ".affine.bias"]
        out[f"{name}.noise.weight"] = sd[p + ".noise_strength"].reshape(1)
        out[f"{name}.activate.bias"] = sd[p + ".bias"]

    def rgb(name, p, up):
        if up:
            out[f"{name}.upsample.kernel"] = kernel.clone()
        out[f"{name}.conv.weight"] = sd[p + ".weight"][None]
        out[f"{name}.conv.modulation.weight"] = sd[p + ".affine.weight"]
        out[f"{name}.conv.modulation.bias"] = sd[p + ".affine.bias"]
        out[f"{name}.bias"] = sd[p + ".bias"].reshape(1, 3, 1, 1)

    styled("conv1", "synthesis.b4.conv1", False)
    rgb("to_rgb1", "synthesis.b4.torgb", False)
    log_size = max(int(k.split(".")[1][1:]) for k in sd if k.startswith("synthesis.b")).bit_length() - 1
    for i in range(3, log_size + 1):
        styled(f"convs.{2 * (i - 3)}", f"synthesis.b{2 ** i}.conv0", True)
        styled(f"convs.{2 * (i - 3) + 1}", f"synthesis.b{2 ** i}.conv1", False)
    for i in range(3, log_size + 1):
        rgb(f"to_rgbs.{i - 3}", f"synthesis.b{2 ** i}.torgb", True)
    for layer in range((log_size - 2) * 2 + 1):
        res = 2 ** ((layer + 5) // 2)
        p = "synthesis.b4.conv1" if layer == 0 else f"synthesis.b{res}.conv{0 if layer % 2 else 1}"
        out[f"noises.noise_{layer}"] = sd[p + ".noise_const"].reshape(1, 1, res, res)
    return out


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/checkpoints"
    os.makedirs(out_dir, exist_ok=True)
    sd = official_generator()
    config = {"z_dim": Z, "w_dim": W, "img_resolution": 16, "img_channels": 3, "mapping_layers": MAPPING_LAYERS,
              "channel_base": 256, "channel_max": 32, "conv_clamp": 256}
    write_safetensors(os.path.join(out_dir, "official16.safetensors"), sd,
                      {"format": "stylegan2-ada-pytorch G_ema state_dict", "config": json.dumps(config)})

    d = official_discriminator()
    snapshot = {"training_set_kwargs": EasyDict(class_name="training.dataset.ImageFolderDataset", path="frames.zip",
                                                resolution=16, max_size=np.int64(1000), xflip=True),
                "G": persistent_generator({k: v + 0.5 for k, v in sd.items()}), "D": persistent_discriminator(d),
                "G_ema": persistent_generator(sd), "augment_pipe": None}
    with open(os.path.join(out_dir, "snapshot16.pkl"), "wb") as f:
        pickle.dump(snapshot, f, protocol=5)

    ros = rosinality_state(sd)
    g_params = [torch.nn.Parameter(v.clone()) for k, v in ros.items() if not k.startswith("noises") and "kernel" not in k]
    optim = torch.optim.Adam(g_params, lr=0.002, betas=(0.0, 0.99))
    sum((p ** 2).sum() for p in g_params).backward()
    optim.step()
    ckpt = {"g": collections.OrderedDict((k, v + 1) for k, v in ros.items()), "d": d, "g_ema": ros,
            "g_optim": optim.state_dict(), "d_optim": {"state": {}, "param_groups": []},
            "args": argparse.Namespace(size=16, latent=W, n_mlp=MAPPING_LAYERS, channel_multiplier=2, lr=0.002),
            "ada_aug_p": 0.0}
    torch.save(ckpt, os.path.join(out_dir, "rosinality16.pt"))
    torch.save(ckpt, os.path.join(out_dir, "rosinality16-legacy.pt"), _use_new_zipfile_serialization=False)
    for name in sorted(os.listdir(out_dir)):
        print(name, os.path.getsize(os.path.join(out_dir, name)))


if __name__ == "__main__":
    main()
