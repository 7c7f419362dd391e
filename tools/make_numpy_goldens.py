#!/usr/bin/env python3
"""Writes the numpy golden files that the Swift tests compare against.

Run from the repository root:  python3 tools/make_numpy_goldens.py
Output goes to Tests/Fixtures/numpy/. The files are committed; rerun only to change them.
The Swift tests recompute the expected *values* from the same formulas written here, so keep
the formulas in step with Tests/EngineTests/NpyNpzTests.swift.
"""
import os
import sys
import zipfile

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "numpy")


def save(name, array, version=None):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        np.lib.format.write_array(f, np.asarray(array), version=version, allow_pickle=False)


def main():
    os.makedirs(OUT, exist_ok=True)

    # RandomState goldens. 513 is odd so the last value comes from a fresh polar pair whose
    # second half stays cached; comparing full sequences also checks the cache is used in order.
    for seed in (0, 1, 42, 4294967295):
        save(f"randn_seed{seed}.npy", np.random.RandomState(seed).randn(513))
    # The raw generator: the seeded key (init_genrand), 1300 uint32 draws (crosses two
    # regenerations of the 624-word state) and random_sample doubles.
    save("mt_state_seed5489.npy", np.random.RandomState(5489).get_state()[1].astype("<u4"))
    save("uint32_seed0.npy", np.random.RandomState(0).randint(0, 2**32, size=1300, dtype=np.uint32))
    save("random_sample_seed7.npy", np.random.RandomState(7).random_sample(257))
    # generate.py draws z this way; a 2-D call must continue the same stream.
    save("randn_seed3_2x5.npy", np.random.RandomState(3).randn(2, 5))

    # .npy layouts. Values are exact in every dtype used: (i * 0.5) - 3.
    a = (np.arange(24, dtype=np.float64) * 0.5 - 3).reshape(2, 3, 4)
    save("f4_v1.npy", a.astype("<f4"))
    save("f4_v2.npy", a.astype("<f4"), version=(2, 0))
    save("f4_v3.npy", a.astype("<f4"), version=(3, 0))
    save("f8_v1.npy", a.astype("<f8"))
    save("f8_big_endian.npy", a.astype(">f8"))
    save("f2_v1.npy", a.astype("<f2"))
    save("i4_v1.npy", np.arange(-5, 7, dtype="<i4").reshape(3, 4))
    save("i8_v1.npy", np.array([-(2**40), -1, 0, 1, 2**40], dtype="<i8"))
    save("u1_v1.npy", np.arange(0, 256, 51, dtype="u1"))
    save("scalar_f4.npy", np.float32(2.5))
    save("empty_f4.npy", np.zeros((0, 3), dtype="<f4"))
    save("fortran_f4.npy", np.asfortranarray(a.astype("<f4")))

    # .npz archives as np.savez / np.savez_compressed write them (numpy forces ZIP64 headers).
    w = np.random.RandomState(11).randn(1, 18, 512).astype(np.float32)
    np.savez(os.path.join(OUT, "projected_w.npz"), w=w)
    b = np.arange(10, dtype=np.int64)
    np.savez(os.path.join(OUT, "savez_two.npz"), a=a.astype("<f4"), b=b)
    np.savez_compressed(os.path.join(OUT, "savez_compressed_two.npz"), a=a.astype("<f4"), b=b)

    # Real ZIP64 structures (extra fields, ZIP64 end record and locator) from Python's own
    # writer, by lowering its thresholds; torch writes ZIP64 archives too.
    limits = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 16, 1
    try:
        with zipfile.ZipFile(os.path.join(OUT, "zip64_forced.zip"), "w") as z:
            for name, data, method in [("hello.txt", b"hello zip64\n" * 10, zipfile.ZIP_STORED),
                                       ("dir/data.bin", bytes(range(256)) * 4, zipfile.ZIP_DEFLATED)]:
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = method
                z.writestr(info, data)
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = limits

    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.normpath(OUT)}")
    if total > 200 * 1024:
        sys.exit("goldens exceed 200 KB")


if __name__ == "__main__":
    main()
