"""How small each lossless coding makes FER2013's faces: the measurement behind tools/gpu/faces_pack.py.

Codes every 8th of the Training and PublicTest faces (4,038 of them) with zlib, bz2, xz (plain and with
a delta filter), PNG (a 64x64-face mosaic and a 48 px wide strip) and lossless WebP (the mosaic), and prints
each one's size over the raw pixels and its encoding time, after checking that it decodes byte-exact.

Usage::

    python tools/gpu/compare_packing.py /work/shared/fer2013/fer2013.npz
"""

from __future__ import annotations

import argparse
import bz2
import lzma
import time
import zlib

import cv2
import numpy as np

from faces_pack import SIDE, from_mosaic, to_mosaic

XZ = dict(format=lzma.FORMAT_XZ, preset=9 | lzma.PRESET_EXTREME)
XZ_DELTA = dict(format=lzma.FORMAT_XZ, filters=[{"id": lzma.FILTER_DELTA, "dist": 1},
                                                {"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}])


def _image(extension, params):
    def encode(faces):
        image = to_mosaic(faces) if extension != ".png-strip" else faces.reshape(-1, SIDE)
        ok, data = cv2.imencode(extension.split("-")[0], image, params)
        assert ok
        return data.tobytes()

    def decode(data, n):
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
        return image.reshape(-1, SIDE, SIDE) if extension == ".png-strip" else from_mosaic(image)[:n]

    return encode, decode


def _bytes(compress, decompress):
    return (lambda faces: compress(faces.tobytes()),
            lambda data, n: np.frombuffer(decompress(data), np.uint8).reshape(n, SIDE, SIDE))


CODINGS = {
    "zlib level 9": _bytes(lambda b: zlib.compress(b, 9), zlib.decompress),
    "bz2 level 9": _bytes(lambda b: bz2.compress(b, 9), bz2.decompress),
    "xz -9e": _bytes(lambda b: lzma.compress(b, **XZ), lzma.decompress),
    "xz -9e, delta filter": _bytes(lambda b: lzma.compress(b, **XZ_DELTA), lzma.decompress),
    "PNG level 9, 48 px strip": _image(".png-strip", [cv2.IMWRITE_PNG_COMPRESSION, 9]),
    "PNG level 9, mosaic": _image(".png", [cv2.IMWRITE_PNG_COMPRESSION, 9]),
    "WebP lossless, mosaic": _image(".webp", [cv2.IMWRITE_WEBP_QUALITY, 101]),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="fer2013.npz")
    args = parser.parse_args(argv)
    with np.load(args.source) as data:
        faces = data["pixels"][data["usage"] <= 1][::8].copy()
    print(f"{len(faces)} faces, {faces.nbytes} bytes raw")
    for name, (encode, decode) in CODINGS.items():
        started = time.perf_counter()
        coded = encode(faces)
        seconds = time.perf_counter() - started
        exact = np.array_equal(decode(coded, len(faces)), faces)
        print(f"{name:<28}{len(coded) / faces.nbytes:7.3f} of raw, {seconds:5.1f} s to encode, "
              f"{'byte-exact' if exact else 'NOT EXACT'}")


if __name__ == "__main__":
    main()
