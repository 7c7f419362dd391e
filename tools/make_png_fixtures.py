#!/usr/bin/env python3
"""Writes the small PNGs under Tests/Fixtures/png that PNGFileTests decodes.

Standard library only (zlib + struct), so the fixtures do not depend on the decoder under test or
on Pillow. Each image's samples come from a formula that the Swift tests recompute; keep the two in
step (see PNGFileTests.swift). Run from anywhere:  python3 tools/make_png_fixtures.py
"""

import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "png")

# Colour types from the PNG specification.
GRAY, RGB, PALETTE, GRAY_ALPHA, RGBA = 0, 2, 3, 4, 6
CHANNELS = {GRAY: 1, RGB: 3, PALETTE: 1, GRAY_ALPHA: 2, RGBA: 4}

# Adam7 passes: (x0, y0, dx, dy).
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def rgb(x, y):
    return [(x * 40 + y * 7) & 255, (y * 50 + x * 3 + 17) & 255, (x * y * 13 + 99) & 255]


def gray(x, y):
    return (x * 30 + y * 5) & 255


def alpha(x, y):
    return (x * 50 + y * 20) & 255


def sample16(x, y, c):
    return (x * 9001 + y * 4099 + c * 12345) & 0xFFFF


PALETTE_COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (250, 200, 10), (7, 8, 9)]
PALETTE_ALPHA = [0, 128, 255]  # tRNS for the first three entries; the rest are opaque


def palette_index(x, y):
    return (x + 2 * y) % len(PALETTE_COLOURS)


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, bit_depth):
    """Packs one row of samples (ints) big-endian, sub-byte depths MSB first, padded to a byte."""
    if bit_depth == 8:
        return bytes(samples)
    if bit_depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    out, acc, bits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << bit_depth) | s
        bits += bit_depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


def png(width, height, colour_type, bit_depth, pixel, interlaced=False, extra=()):
    """`pixel(x, y)` returns the list of samples for one pixel."""
    raw = bytearray()
    passes = ADAM7 if interlaced else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        xs, ys = range(x0, width, dx), range(y0, height, dy)
        if not xs or not ys:
            continue  # empty passes have no rows at all, not even filter bytes
        for y in ys:
            samples = [s for x in xs for s in pixel(x, y)]
            raw += b"\x00" + pack_row(samples, bit_depth)  # filter type 0 (None)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 1 if interlaced else 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + b"".join(chunk(k, d) for k, d in extra)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def fixtures():
    plte = b"".join(bytes(c) for c in PALETTE_COLOURS)
    trns = bytes(PALETTE_ALPHA)
    return {
        "rgb8.png": png(7, 5, RGB, 8, rgb),
        "gray8.png": png(7, 5, GRAY, 8, lambda x, y: [gray(x, y)]),
        "gray1.png": png(9, 3, GRAY, 1, lambda x, y: [(x + y) & 1]),
        "palette4.png": png(7, 5, PALETTE, 4, lambda x, y: [palette_index(x, y)],
                            extra=[(b"PLTE", plte), (b"tRNS", trns)]),
        "gray_alpha8.png": png(7, 5, GRAY_ALPHA, 8, lambda x, y: [gray(x, y), alpha(x, y)]),
        "rgba8.png": png(7, 5, RGBA, 8, lambda x, y: rgb(x, y) + [alpha(x, y)]),
        "rgb16.png": png(7, 5, RGB, 16, lambda x, y: [sample16(x, y, c) for c in range(3)]),
        "gray16.png": png(5, 3, GRAY, 16, lambda x, y: [sample16(x, y, 0)]),
        "interlaced.png": png(11, 9, RGB, 8, rgb, interlaced=True),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in fixtures().items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
