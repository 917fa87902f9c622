"""Build the shipped ``fused`` model: ``models/fused.joblib`` and its manifest entry, from the cached features.

``fused`` is :data:`~fer_classic.compare.methods.FUSED_METHOD`: local learning on ``fer-cnn``'s embeddings
joined with HOG, LBP, landmarks and SIFT Fisher vectors, made compact
(:mod:`fer_classic.classify.fused`). This trains it as ``fer-classic train`` would
(:func:`~fer_classic.classify.train_method`: fitted on the mirrored Training faces, chosen on PublicTest, every
split scored with the weights as stored), records how it was made, and writes the file and its entry in
``models/manifest.json`` (read afresh and replaced whole by :func:`~fer_classic.store.save_model`).

Usage::

    python tools/build_fused.py [--data PATH] [--jobs 2]
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys

import fer_classic.cnn.embeddings  # noqa: F401  registers cnn-fer
from fer_classic.classify import train_method
from fer_classic.compare.methods import FUSED_METHOD
from fer_classic.data import load_fer2013
from fer_classic.extract.cache import show_progress
from fer_classic.store import save_model, shipped_models_dir
from fer_classic.workers import DEFAULT_JOBS

NAME = "fused"
COMMAND = "python tools/build_fused.py"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="FER2013 (default: found the usual way)")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS)
    args = parser.parse_args(argv)
    show_progress(True)
    data = load_fer2013(args.data)
    model, entry = train_method(FUSED_METHOD, data, n_jobs=args.jobs, log=lambda line: print(line, flush=True))
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    entry["retrain"] = COMMAND
    entry["training"] = {"command": " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])]),
                         "commit": commit or None,
                         "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    saved = save_model(model, shipped_models_dir() / f"{NAME}.joblib", entry)
    print(f"{NAME}: {saved.file}, {saved.size_bytes / 1e6:.2f} MB, sha256 {saved.sha256[:16]}; "
          + ", ".join(f"{split} {saved.accuracy(split):.4f}" for split in saved.metrics))


if __name__ == "__main__":
    main()
