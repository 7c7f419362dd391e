"""Writes the seed inputs of ZipFuzz, NpyFuzz, SessionFuzz and CutListFuzz (seeds/zip, seeds/npy,
seeds/session, seeds/cutlist) from the test fixtures plus a few files made here with the standard
library (zip layouts numpy does not write: data descriptors, forced ZIP64, comments, directories).
Needs only Python 3; the seeds are committed, so this only runs when they change. Each seed starts
with the mode byte its target reads (see the targets' doc comments).
"""
import io, json, os, struct, zipfile

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "Tests", "Fixtures")
out = {k: os.path.join(here, "seeds", k) for k in ("zip", "npy", "session", "cutlist")}
for d in out.values():
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))


def put(kind, name, mode, data):
    with open(os.path.join(out[kind], name), "wb") as f:
        f.write(bytes([mode]) + data)


def fixture(*path):
    with open(os.path.join(fixtures, *path), "rb") as f:
        return f.read()


def npy(shape, descr="<f4", values=None, version=(1, 0)):
    """A numpy-format file without numpy: header padded to 64 as numpy pads it."""
    shape_text = "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
    head = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    pre = 10 if version == (1, 0) else 12
    head += " " * (64 - (pre + len(head) + 1) % 64) + "\n"
    n = 1
    for d in shape:
        n *= d
    data = struct.pack("<%df" % n, *(values or [i / 8 for i in range(n)]))
    size = struct.pack("<H", len(head)) if version == (1, 0) else struct.pack("<I", len(head))
    return b"\x93NUMPY" + bytes(version) + size + head.encode("latin1") + data


# ZipFuzz: 0 raw, 1 CRCs fixed up by the harness.
zips = {n: fixture("numpy", n) for n in ("savez_two.npz", "savez_compressed_two.npz", "zip64_forced.zip")}
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("dir/", b"")
    z.writestr("a.txt", b"hello " * 40)
    z.writestr(zipfile.ZipInfo("b.bin"), bytes(range(256)), compress_type=zipfile.ZIP_STORED)
    z.comment = b"a comment"
zips["mixed-comment.zip"] = buf.getvalue()


class Unseekable(io.RawIOBase):
    """zipfile writes data descriptors (flag bit 3) when it cannot seek back."""
    def __init__(self):
        self.data = bytearray()
    def writable(self):
        return True
    def write(self, b):
        self.data += b
        return len(b)


raw = Unseekable()
with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
    with z.open("stream.npy", "w") as f:
        f.write(npy([2, 3]))
    with z.open("stored.txt", "w", force_zip64=True) as f:
        f.write(b"zip64 and a data descriptor\n" * 4)
zips["descriptor-zip64.zip"] = bytes(raw.data)
for name, data in zips.items():
    put("zip", name + ".raw", 0, data)
    put("zip", name + ".fixed", 1, data)

# NpyFuzz: 0 .npy, 1 .npz as it is, 2 .npy inside an .npz made by the harness.
for name in sorted(os.listdir(os.path.join(fixtures, "numpy"))):
    data = fixture("numpy", name)
    if name.endswith(".npy") and len(data) <= 8192:
        put("npy", name, 0, data)
    if name in ("f4_v1.npy", "f8_big_endian.npy", "scalar_f4.npy"):
        put("npy", name + ".in-npz", 2, data)
for name in ("savez_two.npz", "savez_compressed_two.npz"):
    put("npy", name, 1, fixture("numpy", name))
put("npy", "descriptor.npz", 1, zips["descriptor-zip64.zip"])


# SessionFuzz: 0 session.json, 1 a saved frame, 2 saved latents, 3 latents .npy, 4 latents .npz.
def identity(path, size, h):
    return {"path": path, "bytes": size, "hash": h}


record = {"budget": 10, "space": "w+", "loss": "default", "seed": 0, "status": "dd..d.....", "complete": False,
          "seconds": 1.5, "evaluations": 30, "notes": ["a note"]}
manifest = {"version": 2, "video": identity("/clips/v.mp4", 1000, "00000000000000aa"),
            "model": identity("/models/g.pkl", 2000, "00000000000000bb"), "resolution": 256, "fit": "center-crop",
            "fps": 25, "videoFrames": 100, "first": 0, "count": 10,
            "methods": {"naive": record, "sequential": dict(record, schedule={"warm": 2.5, "first": 20}, complete=True),
                        "scene": dict(record, status="d" * 10)}}
put("session", "session.json", 0, json.dumps(manifest, indent=2, sort_keys=True).encode())
put("session", "session-empty.json", 0, json.dumps(dict(manifest, methods={}, first=40, count=5)).encode())


def safetensors(tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for k, shape in tensors:
        n = 1
        for d in shape:
            n *= d
        data = struct.pack("<%df" % n, *[i / 4 for i in range(n)])
        header[k] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


put("session", "frame.safetensors", 1, safetensors([("w", [2, 3]), ("noise/n0", [4, 4]), ("noise/n1", [8, 8]), ("loss", [3])],
                                                   {"method": "scene", "frame": "0", "evaluations": "12"}))
put("session", "frame-no-noise.safetensors", 1, safetensors([("w", [2, 3]), ("loss", [1])], {"method": "scene"}))
put("session", "latents.safetensors", 2, safetensors([("w", [2, 2, 3]), ("noise/n0", [2, 4, 4]), ("noise/n1", [2, 8, 8])],
                                                     {"format": "linstory latents", "method": "scene"}))
put("session", "latents-w-only.safetensors", 2, safetensors([("w", [3, 2, 3])], {"method": "scene"}))
put("session", "latents-nws.npy", 3, npy([1, 2, 3]))
put("session", "latents-one.npy", 3, npy([2, 3]))
put("session", "latents-w.npy", 3, npy([4, 3]))
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("w.npy", npy([1, 2, 3]))
put("session", "projected_w.npz", 4, buf.getvalue())

# CutListFuzz: bit 0 fps 25 given, bit 1 202 frames given.
csv = fixture("clips", "bbb-cuts.pyscenedetect-0.7.2.csv")
put("cutlist", "pyscenedetect.csv", 0, csv)
put("cutlist", "pyscenedetect-fps.csv", 1, csv)
put("cutlist", "pyscenedetect-skip-cuts.csv", 0, csv.split(b"\n", 1)[1])
put("cutlist", "linstory.json", 0, b"""{
  "frames": 202,
  "fps": 25,
  "cuts": [
    {"frame": 24, "time": 0.96, "kind": "cut", "score": 41.5, "span": [24, 24]},
    {"frame": 77, "time": 3.08, "kind": "dissolve", "score": 12.25, "span": [72, 81]},
    {"frame": 150, "time": 6, "kind": "fade", "score": 30, "span": [140, 160]}
  ]
}
""")
put("cutlist", "hand-written.json", 3, b'{"cuts": [{"frame": 24}, {"frame": 100, "kind": "fade", "span": [95, 105]}]}')
put("cutlist", "timecodes", 0, b"00:00:01.500,01:02.25,3.5,1:2:3")
print({k: sorted(os.listdir(v)) for k, v in out.items()})
