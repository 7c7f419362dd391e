"""Writes the fuzz targets' seed inputs (seeds/pickle, seeds/safetensors). Needs torch and numpy;
the seeds are committed, so this only runs when they change. Each pickle seed starts with the mode
byte PickleFuzz reads (0 plain pickle, 1 torch.save file, 2 zip data.pkl, 3 legacy object pickle).
The seeds of the other targets (zip, npy, session, cutlist) come from make_seeds_io.py.
"""
import argparse, collections, io, json, os, pickle, struct, sys, zipfile
import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tools"))
import make_checkpoint_fixtures as fx  # the NVIDIA stand-ins (persistent objects, EasyDict)

out_p = os.path.join(here, "seeds", "pickle")
out_s = os.path.join(here, "seeds", "safetensors")


def put(name, mode, data):
    with open(os.path.join(out_p, name), "wb") as f:
        f.write(bytes([mode]) + data)


# Mode 0: NVIDIA-shaped pickles, small.
t = lambda *s: torch.arange(float(np.prod(s) or 1)).reshape(*s) / 7
fc = fx.module("FullyConnectedLayer", [("weight", torch.nn.Parameter(t(2, 2))), ("bias", torch.nn.Parameter(t(2)))],
               init_kwargs={"lr_multiplier": 0.01}, weight_gain=np.float64(0.5), count=np.int64(3))
net = fx.module("Generator", modules=[("mapping", fx.module("MappingNetwork", buffers=[("w_avg", t(2))], modules=[("fc0", fc)]))],
                init_kwargs={"z_dim": 2, "c_dim": 0, "w_dim": 2, "img_resolution": 4, "img_channels": 3,
                             "mapping_kwargs": fx.EasyDict(num_layers=1), "synthesis_kwargs": fx.EasyDict(conv_clamp=None)})
for proto in (2, 4, 5):
    put(f"snapshot-p{proto}", 0, pickle.dumps({"G_ema": net, "D": None, "augment_pipe": None,
                                              "training_set_kwargs": fx.EasyDict(xflip=True, path="x")}, protocol=proto))
put("plain-values", 0, pickle.dumps([1, -1, 2 ** 70, 1.5, "s", b"b", (1, 2), {3, 4}, frozenset([5]), {"k": None}, True], protocol=4))
put("numpy", 0, pickle.dumps({"a": np.float32(1.5), "b": np.zeros(3, dtype=np.float16), "c": np.int8(-3)}, protocol=2))

# Modes 1-3: torch.save files and their parts.
state = {"g_ema": collections.OrderedDict([("style.1.weight", t(2, 2)), ("style.1.bias", t(2)[1:]), ("view", t(4, 2).t())]),
         "latent_avg": t(2), "args": argparse.Namespace(size=4), "opt": {"state": {0: {"step": torch.tensor(3)}}}}
buf = io.BytesIO()
torch.save(state, buf)
put("torch-zip", 1, buf.getvalue())
z = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
name = [n for n in z.namelist() if n.endswith("data.pkl")][0]
put("zip-data-pkl", 2, z.read(name))
buf = io.BytesIO()
torch.save(state, buf, _use_new_zipfile_serialization=False)
legacy = buf.getvalue()
put("torch-legacy", 1, legacy)
# Mode 3 is the legacy stream after its three header pickles.
f = io.BytesIO(legacy)
for _ in range(3):
    pickle.load(f)
put("legacy-body", 3, legacy[f.tell():])


def safetensors(name, tensors, metadata=None):
    header = {"__metadata__": metadata} if metadata else {}
    blobs, offset = [], 0
    for k, (dtype, arr) in tensors.items():
        data = arr.tobytes()
        header[k] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    with open(os.path.join(out_s, name), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


a = np.arange(6, dtype="<f4").reshape(2, 3)
safetensors("dtypes", {"f32": ("F32", a), "f16": ("F16", a.astype("<f2")), "f64": ("F64", a.astype("<f8")),
                       "bf16": ("BF16", (a.view("<u4") >> 16).astype("<u2")), "i64": ("I64", a.astype("<i8")),
                       "scalar": ("F32", np.float32(3)[()].reshape(())), "empty": ("F32", np.zeros((0, 4), "<f4"))},
            {"format": "x", "config": '{"conv_clamp": 256}'})
# A complete tiny generator: z = w = 4, 1 mapping layer, 4 channels at 4 and 8 px.
g = {}
r = np.random.RandomState(0)
f = np.outer([1, 3, 3, 1], [1, 3, 3, 1]).astype("<f4") / 64
g["mapping.fc0.weight"] = r.randn(4, 4); g["mapping.fc0.bias"] = r.randn(4); g["mapping.w_avg"] = r.randn(4)
for res in (4, 8):
    b = f"synthesis.b{res}"
    if res == 4:
        g[b + ".const"] = r.randn(4, 4, 4)
    g[b + ".resample_filter"] = f
    for conv in (["conv1"] if res == 4 else ["conv0", "conv1"]):
        p = f"{b}.{conv}"
        g[p + ".weight"] = r.randn(4, 4, 3, 3); g[p + ".bias"] = r.randn(4); g[p + ".noise_strength"] = np.float32(0.1)[()].reshape(())
        g[p + ".noise_const"] = r.randn(res, res); g[p + ".resample_filter"] = f
        g[p + ".affine.weight"] = r.randn(4, 4); g[p + ".affine.bias"] = np.ones(4)
    g[b + ".torgb.weight"] = r.randn(3, 4, 1, 1); g[b + ".torgb.bias"] = r.randn(3)
    g[b + ".torgb.affine.weight"] = r.randn(4, 4); g[b + ".torgb.affine.bias"] = np.ones(4)
safetensors("generator", {k: ("F32", np.asarray(v, dtype="<f4")) for k, v in sorted(g.items())},
            {"config": '{"conv_clamp": null}'})
print(sorted(os.listdir(out_p)), sorted(os.listdir(out_s)))
