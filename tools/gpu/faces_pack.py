"""FER2013's Training and PublicTest faces, packed losslessly small enough to travel to a lent GPU machine.

The device tool sends at most 64 MiB with each call, and ``fer2013.npz``'s
deflate barely compresses faces (78 MB for 82.7 MB of pixels). Lossless
WebP of mosaics of 64x64 faces keeps 0.70 of the bytes, PNG 0.74, xz 0.75
with a delta filter and 0.77 without (measured on every 8th of the 32,298
faces; docs/gpu.md gives the command). PrivateTest stays behind: it plays
no part in training or in choosing the epoch.

A packed folder holds ``faces-NN.webp`` mosaics (4,096 faces each, the last
padded with black faces) and ``index.json`` (split sizes, labels as a string
of digits, the SHA-256 of the raw pixels, the source file's MD5). Reading it
back checks the SHA-256, so a face that did not survive is an error, never
a silent change.

Usage::

    python tools/gpu/faces_pack.py /work/shared/fer2013/fer2013.npz .gpu-data
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

SPLITS = ("Training", "PublicTest")      # usage codes 0 and 1 of fer2013.npz
SIDE = 48
COLUMNS = 64                             # faces per mosaic row; 64 rows make a 3072 px square mosaic
PER_MOSAIC = COLUMNS * COLUMNS
INDEX = "index.json"
FORMAT = "fer-classic-packed-faces/1"


def _sha256(pixels):
    return hashlib.sha256(np.ascontiguousarray(pixels, dtype=np.uint8).tobytes()).hexdigest()


def to_mosaic(faces):
    """(n <= 4096, 48, 48) faces -> one 2-D image, COLUMNS faces a row, missing faces black."""
    rows = -(-len(faces) // COLUMNS)
    padded = np.zeros((rows * COLUMNS, SIDE, SIDE), np.uint8)
    padded[:len(faces)] = faces
    return padded.reshape(rows, COLUMNS, SIDE, SIDE).transpose(0, 2, 1, 3).reshape(rows * SIDE, COLUMNS * SIDE)


def from_mosaic(image):
    """The inverse of :func:`to_mosaic`, padding included."""
    rows = image.shape[0] // SIDE
    return image.reshape(rows, SIDE, COLUMNS, SIDE).transpose(0, 2, 1, 3).reshape(rows * COLUMNS, SIDE, SIDE)


def pack(faces, labels, split_sizes, folder, source_md5=""):
    """Write ``faces`` (rows in split order) and their labels to ``folder``.

    Parameters
    ----------
    faces : ndarray of uint8, shape (n, 48, 48)
    labels : ndarray of int, shape (n,)
        Emotion indices 0-6.
    split_sizes : dict of str to int
        Rows of each split, in order; they must add up to ``n``.
    folder : str or Path
        Created if missing; its earlier mosaics and index are replaced.
    source_md5 : str
        The MD5 of the file the faces came from, kept for provenance.

    Returns
    -------
    int
        Bytes written.
    """
    import cv2

    faces, labels = np.asarray(faces), np.asarray(labels)
    if faces.dtype != np.uint8 or faces.ndim != 3 or faces.shape[1:] != (SIDE, SIDE):
        raise ValueError(f"faces must be uint8 (n, {SIDE}, {SIDE}), got {faces.dtype} {faces.shape}")
    if labels.shape != (len(faces),) or labels.min(initial=0) < 0 or labels.max(initial=0) > 9:
        raise ValueError(f"labels must be {len(faces)} digits, got shape {labels.shape}")
    if sum(split_sizes.values()) != len(faces):
        raise ValueError(f"split sizes {split_sizes} do not add up to the {len(faces)} faces")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("faces-*.webp"):
        old.unlink()
    written = 0
    names = []
    for number, start in enumerate(range(0, len(faces), PER_MOSAIC)):
        ok, encoded = cv2.imencode(".webp", to_mosaic(faces[start:start + PER_MOSAIC]),
                                   [cv2.IMWRITE_WEBP_QUALITY, 101])    # quality above 100 = lossless
        if not ok:
            raise RuntimeError("OpenCV could not encode a WebP mosaic (built without libwebp?)")
        names.append(f"faces-{number:02d}.webp")
        (folder / names[-1]).write_bytes(encoded.tobytes())
        written += encoded.size
    index = {"format": FORMAT, "splits": {name: int(size) for name, size in split_sizes.items()},
             "mosaics": names, "labels": "".join(map(str, labels.tolist())), "sha256": _sha256(faces),
             "source_md5": source_md5}
    text = json.dumps(index, indent=1)
    (folder / INDEX).write_text(text)
    return written + len(text)


def unpack(folder):
    """Read a folder written by :func:`pack`.

    Returns
    -------
    splits : dict of str to (faces uint8 (n, 48, 48), labels int64 (n,))
    source_md5 : str

    Raises
    ------
    ValueError
        When the folder is no packed-faces folder, a mosaic is missing or
        undecodable, or the faces read back differ from those packed.
    """
    import cv2

    folder = Path(folder)
    try:
        index = json.loads((folder / INDEX).read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{folder}: no readable {INDEX} ({error})") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise ValueError(f"{folder / INDEX}: not a {FORMAT} index")
    n = sum(index["splits"].values())
    mosaics = []
    for name in index["mosaics"]:
        image = cv2.imread(str(folder / name), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise ValueError(f"{folder / name}: missing or not a WebP image")
        mosaics.append(from_mosaic(image))
    faces = np.concatenate(mosaics)[:n] if mosaics else np.zeros((0, SIDE, SIDE), np.uint8)
    if len(faces) != n or _sha256(faces) != index["sha256"]:
        raise ValueError(f"{folder}: the faces read back differ from those packed (SHA-256 mismatch)")
    labels = np.frombuffer(index["labels"].encode(), np.uint8).astype(np.int64) - ord("0")
    splits, start = {}, 0
    for name, size in index["splits"].items():
        splits[name] = (faces[start:start + size], labels[start:start + size])
        start += size
    return splits, index.get("source_md5", "")


def pack_fer2013(npz_path, folder):
    """Pack the Training and PublicTest rows of ``fer2013.npz`` (see its README) into ``folder``; bytes written."""
    from fer_classic.data import file_md5

    with np.load(npz_path) as data:
        pixels, emotion, usage = data["pixels"], data["emotion"], data["usage"]
    rows = [np.flatnonzero(usage == code) for code in range(len(SPLITS))]
    order = np.concatenate(rows)
    return pack(pixels[order], emotion[order], {name: len(r) for name, r in zip(SPLITS, rows)}, folder,
                file_md5(npz_path))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="fer2013.npz")
    parser.add_argument("folder", help="where to write the mosaics and index.json")
    args = parser.parse_args(argv)
    size = pack_fer2013(args.source, args.folder)
    splits, _ = unpack(args.folder)            # the byte-exact check, before anything travels
    print(f"{args.folder}: {size / 2 ** 20:.1f} MiB, "
          + ", ".join(f"{name} {len(faces)}" for name, (faces, _) in splits.items()) + ", read back byte-exact")


if __name__ == "__main__":
    main()
