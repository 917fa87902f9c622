"""What each compaction step of the fused local SVM costs on PublicTest, and k and the learned block's weight.

Reads the blocks ``dump.py`` wrote (the fused method's whitened features: hog, lbp, sift-fisher at 500 PCA
components, landmarks and fer-cnn standardised), builds each variant with the library's own classes
(:class:`~fer_classic.classify.fused.LinearProjection`, :class:`~fer_classic.classify.fused.CompactLocalSVM`,
:class:`~fer_classic.classify.local.LocalSVM`) and scores it on all 3,589 PublicTest faces, each averaged with its
mirror image; appends one JSON line a variant to RESULTS.

A variant is ``dims/bank/storage/k/w[/space[/C]]``: dims "full" (no projection) or the projection's components; bank
"all" (57,418 mirrored rows) or "faces" (28,709, mirrors left out); storage float16 or int8; k neighbours; w the
weight of the fer-cnn block before the projection; "u" unwhitens each PCA block (its components times their
standard deviations) and scales every block to a mean squared row norm of 1 (then w), "w" (default) keeps the
registered whitened blocks; C the local SVMs' (default 0.01).

Usage::

    python experiments/2026-12-07-fused/study.py BLOCKS RESULTS.jsonl full/all/float16/100/1 128/faces/int8/100/1 ...
    python experiments/2026-12-07-fused/study.py BLOCKS RESULTS.jsonl --split PrivateTest 128/faces/int8/100/1
"""

import argparse
import json
import time
from pathlib import Path

import joblib
import numpy as np
from joblib import Parallel, delayed

from fer_classic.classify.fused import CompactLocalSVM, LinearProjection
from fer_classic.faces import average_views


def score_rows(local, X, labels):
    probabilities = average_views(local.predict_proba(X), 2)
    return float((local.classes_[probabilities.argmax(axis=1)] == labels).mean())


def unwhiten(folder, names, widths, train, test):
    """Undo each block's whitening, then scale every block to a mean squared row norm of 1, in place."""
    union = joblib.load(Path(folder) / "features.joblib").named_steps["features"]
    starts = np.concatenate([[0], np.cumsum(widths)])
    for name, block in union.transformer_list:
        columns = slice(starts[names.index(name)], starts[names.index(name) + 1])
        reduce = block.steps[-1][1]
        scale = np.sqrt(reduce.pca_.explained_variance_).astype(np.float32) if reduce != "passthrough" else 1
        train[:, columns] *= scale
        test[:, columns] *= scale
        norm = np.float32(np.sqrt(np.mean(np.sum(train[:, columns] ** 2, axis=1))))
        train[:, columns] /= norm
        test[:, columns] /= norm


def run(folder, variant, split, jobs):
    parts = variant.split("/")
    dims, bank, storage, k, weight, space, C = parts + ["w", "0.01"][len(parts) - 5:]
    with np.load(Path(folder) / "labels.npz") as stored:
        y, labels, names, widths = stored["train"], stored[split], list(stored["names"]), stored["widths"]
    train = np.load(Path(folder) / "train.npy")
    test = np.load(Path(folder) / f"{split}.npy")
    if space == "u":
        unwhiten(folder, names, widths, train, test)
    start = int(np.sum(widths[:names.index("cnn-fer")]))
    cnn = slice(start, start + widths[names.index("cnn-fer")])
    if float(weight) != 1:
        train[:, cnn] *= float(weight)
        test[:, cnn] *= float(weight)
    started = time.perf_counter()
    if dims != "full":
        projection = LinearProjection(int(dims)).fit(train)
        train, test = projection.transform(train), projection.transform(test)
    n = len(y) // 2
    local = CompactLocalSVM(int(k), float(C), storage=storage, mirrors=bank == "all").fit(
        train, y, groups=np.tile(np.arange(n), 2))
    fit_seconds = time.perf_counter() - started
    halves = np.array_split(np.arange(len(labels)), jobs)
    # Each job scores a share of the faces in both views (test holds the faces, then their mirrors).
    correct = Parallel(n_jobs=jobs)(delayed(score_rows)(local, test[np.concatenate([h, h + len(labels)])],
                                                        labels[h]) for h in halves)
    accuracy = sum(c * len(h) for c, h in zip(correct, halves)) / len(labels)
    return {"variant": variant, "split": split, "accuracy": round(accuracy, 4), "dims": train.shape[1],
            "bank_rows": len(local.rows_), "bank_mb": round(local.rows_.nbytes / 1e6, 2),
            "fit_seconds": round(fit_seconds, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("blocks")
    parser.add_argument("results")
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--split", default="PublicTest")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    for variant in args.variants:
        started = time.perf_counter()
        record = run(args.blocks, variant, args.split, args.jobs)
        record["seconds"] = round(time.perf_counter() - started, 1)
        print(json.dumps(record), flush=True)
        with open(args.results, "a") as out:
            out.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
