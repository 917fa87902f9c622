"""Penultimate-layer embeddings of a shipped network, for the SVM on CNN + handcrafted features.

Writes, for ``--model`` (``fer-cnn`` or ``vgg19``): the 57,418 mirrored
Training faces (faces, then mirrors, as the handcrafted blocks), the same
faces under one random training-style warp each (to test whether the
network's too-clean view of faces it was trained on hurts the neighbours),
and PublicTest and PrivateTest with their mirrors.

Usage::

    python experiments/2026-12-06-svm-kernels/embed_cnn.py OUT_DIR --model fer-cnn
    python experiments/2026-12-06-svm-kernels/embed_cnn.py OUT_DIR --model vgg19 --no-warped
"""

import argparse
import time
from pathlib import Path

import keras
import numpy as np

from fer_classic.cnn.augment import random_affine
from fer_classic.cnn.weight_files import load_weights
from fer_classic.data import load_fer2013
from fer_classic.extract import with_horizontal_flips
from fer_classic.faces import mirror_faces
from fer_classic.model_files import packaged_models_dir


def embedder(network):
    """The network up to the input of its last Dropout: the features its softmax layer reads."""
    dropout = [layer for layer in network.layers if isinstance(layer, keras.layers.Dropout)][-1]
    return keras.Model(network.input, dropout.input)


def embed(model, faces, batch=512):
    return np.concatenate([np.asarray(model.predict_on_batch(faces[s:s + batch, :, :, None].astype(np.float32)))
                           for s in range(0, len(faces), batch)])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--model", default="fer-cnn")
    parser.add_argument("--no-warped", action="store_true", help="skip the warped training faces")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _, network, _ = load_weights(packaged_models_dir() / f"{args.model}.npz")
    model = embedder(network)
    data = load_fer2013()
    faces, _ = with_horizontal_flips(data["Training"].faces, data["Training"].labels)
    views = {"train": faces}
    if not args.no_warped:
        views["train-warped"] = random_affine(faces, np.random.default_rng(0), flip=False)
    for split in ("PublicTest", "PrivateTest"):
        views[split] = data[split].faces
        views[split + "-mirror"] = mirror_faces(data[split].faces)
    arrays = {}
    for name, rows in views.items():
        started = time.perf_counter()
        arrays[name] = embed(model, rows).astype(np.float32)
        print(f"{args.model} {name}: {arrays[name].shape}, {time.perf_counter() - started:.1f} s", flush=True)
    np.savez(out / f"cnn-{args.model}.npz", **arrays)


if __name__ == "__main__":
    main()
