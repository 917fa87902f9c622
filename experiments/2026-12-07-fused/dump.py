"""Dump the fused method's whitened feature blocks (500 PCA components a handcrafted block, fer-cnn's 256
standardised units) for the mirrored Training faces, PublicTest and PrivateTest with their mirrors.

Usage::

    python experiments/2026-12-07-fused/dump.py OUT_DIR
"""

import sys
import time
from pathlib import Path

import joblib
import numpy as np

import fer_classic.cnn.embeddings  # noqa: F401  registers cnn-fer
from fer_classic.classify.methods import build_method, limit_components
from fer_classic.classify.training import fit_features
from fer_classic.compare.methods import FUSED_METHOD
from fer_classic.data import load_fer2013
from fer_classic.extract import with_horizontal_flips
from fer_classic.extract.cache import show_progress
from fer_classic.faces import mirror_views


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    show_progress(True)
    data = load_fer2013(ferplus=False)
    faces, labels = with_horizontal_flips(data["Training"].faces, data["Training"].labels)
    model = build_method(FUSED_METHOD, n_jobs=2)
    limit_components(model, len(faces))
    started = time.perf_counter()
    features, steps = fit_features(model.named_steps["features"], faces, labels, print)
    print("training features", features.shape, round(time.perf_counter() - started, 1), "s", flush=True)
    np.save(out / "train.npy", features)
    widths = [step["output_columns"] for step in steps if step["step"] == ("reduce" if step["feature"] != "cnn-fer"
              and step["feature"] != "landmarks" else "map")]
    np.savez(out / "labels.npz", train=labels, PublicTest=data["PublicTest"].labels,
             PrivateTest=data["PrivateTest"].labels, widths=np.array(widths),
             names=np.array([name for name, _ in model.named_steps["features"].transformer_list]))
    for split in ("PublicTest", "PrivateTest"):
        X = np.asarray(model[:-1].transform(mirror_views(data[split].faces)), dtype=np.float32)
        np.save(out / f"{split}.npy", X)
        print(split, X.shape, flush=True)
    joblib.dump(model[:-1], out / "features.joblib")


if __name__ == "__main__":
    main(sys.argv[1])
