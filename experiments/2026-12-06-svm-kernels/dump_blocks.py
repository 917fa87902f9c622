"""Dump each feature block of ``hog+lbp+landmarks+sift-fisher``, mapped but not reduced, for the kernel study.

Every block goes through its extractor and its map (Hellinger for LBP,
standardisation for the landmark geometry) exactly as the registered methods
do, and stops before the whitened PCA, which is the step under study. Rows:
the 57,418 mirrored Training faces (faces, then mirrors), and PublicTest and
PrivateTest with their mirrors. Extraction is cached by the library, so a
second run only reads.

Usage::

    python experiments/2026-12-06-svm-kernels/dump_blocks.py OUT_DIR
"""

import sys
import time
from pathlib import Path

import numpy as np

from fer_classic.classify.methods import ALL_FEATURES, build_method
from fer_classic.data import load_fer2013
from fer_classic.extract import with_horizontal_flips
from fer_classic.faces import mirror_faces


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_fer2013()
    train = data["Training"]
    faces, labels = with_horizontal_flips(train.faces, train.labels)
    model = build_method("+".join(ALL_FEATURES) + "/logreg", n_jobs=2)
    views = {"train": faces}
    for split in ("PublicTest", "PrivateTest"):
        views[split] = data[split].faces
        views[split + "-mirror"] = mirror_faces(data[split].faces)
    np.savez(out / "labels.npz", train=labels, PublicTest=data["PublicTest"].labels,
             PrivateTest=data["PrivateTest"].labels, md5=data.md5)
    for name, block in model.named_steps["features"].transformer_list:
        prepare = block[:-1]  # extract, map: no PCA
        started = time.perf_counter()
        arrays = {"train": prepare.fit_transform(faces, labels)}
        arrays.update({view: prepare.transform(rows) for view, rows in views.items() if view != "train"})
        np.savez(out / f"{name}.npz", **{k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()})
        print(f"{name}: {arrays['train'].shape[1]} dims, {time.perf_counter() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
