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

The blocks ``dump.py`` writes at the current recipe already carry fer-cnn's weight of 2 (the method's
``transformer_weights``, applied by ``fit_features`` and by the union's ``transform``): w multiplies on top of it, so
w = 1 is the registered recipe, ``256/all/int8/100/1``.

Modifiers (issue 42, item 6) follow a colon, separated by commas, e.g. ``256/all/int8/100/1:mean-all``:

- ``mean-cnn``: fer-cnn's block of a face and of its mirror image replaced by their mean, in the bank and in the
  queries; each test face is still classified in both views (two local SVMs) and the bank keeps 57,418 rows;
- ``mean-all``: every block averaged: one row a training face (28,709) and one query, one local SVM, a test face;
- ``keras``: fer-cnn's block replaced by Keras's 256 units (``layers.py``), standardised on the training rows and
  weighted as the dump's (2);
- ``pool4`` / ``pool3``: Keras's global-average-pooled last (256 channels) / third (128) convolutional block
  appended, standardised, weighted 2 (``pool4x`` etc.: weighted 2 / sqrt(2), and the 256 units too, so that the
  learned blocks together keep the 256 units' share);
- ``lbp-chi2``: LBP's block rebuilt from the raw histograms with sklearn's ``AdditiveChi2Sampler`` (2 sample steps)
  in place of the Hellinger map, then the same whitened PCA of 500 components as the dump's;
- ``lbp-min``: the same with :class:`IntersectionMap`, an approximate explicit map of the intersection kernel;
- ``lbp-hellinger``: the same with the dump's own Hellinger map: the control, which should give the dump's block;
- ``seedN``: the projection's principal directions estimated from another random 20,000 rows (``random_state`` N
  instead of 0): how much a variant's score moves with that draw alone.

Each variant's per-face outcomes are saved under ``~/.cache/fer_classic/exp/fused-study/`` for ``compare.py``.

Usage::

    python experiments/2026-12-07-fused/study.py BLOCKS RESULTS.jsonl full/all/float16/100/1 128/faces/int8/100/1 ...
    python experiments/2026-12-07-fused/study.py BLOCKS RESULTS.jsonl --split PrivateTest 128/faces/int8/100/1
"""

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import joblib
import numpy as np
from joblib import Parallel, delayed

from fer_classic.classify.fused import CompactLocalSVM, LinearProjection
from fer_classic.faces import average_views

EXP = Path.home() / ".cache" / "fer_classic" / "exp"
LEARNED_WEIGHT = 2.0       # the weight dump.py's fer-cnn block carries


def score_rows(local, X, labels, views=2):
    """Whether each face (its views averaged) is classified right, bool (n,)."""
    probabilities = average_views(local.predict_proba(X), views)
    return local.classes_[probabilities.argmax(axis=1)] == labels


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


def standardised(train, test, weight):
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train)
    return (scaler.transform(train) * weight).astype(np.float32), (scaler.transform(test) * weight).astype(np.float32)


def raw_lbp(folder, split):
    """LBP's raw histograms of the mirrored Training faces and of ``split``'s faces then mirrors, cached."""
    path = EXP / "lbp-raw" / f"{split}.npz"
    if not path.is_file():
        from fer_classic.data import load_fer2013
        from fer_classic.extract import with_horizontal_flips
        from fer_classic.faces import mirror_views

        extract = joblib.load(Path(folder) / "features.joblib").named_steps["features"].get_params()["lbp"][0]
        data = load_fer2013(ferplus=False)
        train = extract.transform(with_horizontal_flips(data["Training"].faces, data["Training"].labels)[0])
        test = extract.transform(mirror_views(data[split].faces))
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, train=np.asarray(train, np.float32), test=np.asarray(test, np.float32))
    with np.load(path) as stored:
        return stored["train"], stored["test"]


class IntersectionMap:
    """An explicit, approximate map of the histogram-intersection kernel sum_j min(x_j, y_j).

    Each dimension j gets ``levels`` thresholds t_1 < ... < t_L, quantiles of its non-zero training values, and
    maps x_j to sqrt(t_b - t_(b-1)) for each b with x_j >= t_b, 0 otherwise (t_0 = 0): the dot product of two maps
    is sum_j t(min(x_j, y_j)), min(x_j, y_j) rounded down to a threshold (Maji & Berg's encoding, 2009, with
    quantile steps). L times the dimensions; written here, since scikit-learn has no such map.
    """

    def __init__(self, levels=8):
        self.levels = levels

    def fit(self, X):
        quantiles = np.linspace(0, 1, self.levels + 1)[:-1]
        thresholds = np.zeros((X.shape[1], self.levels), np.float32)
        for j in range(X.shape[1]):
            values = X[:, j][X[:, j] > 0]
            if len(values):
                thresholds[j] = np.quantile(values, quantiles)
        # Strictly increasing steps: repeated quantiles of discrete shares give zero-width steps, which map to 0.
        self.thresholds_ = np.maximum.accumulate(thresholds, axis=1)
        self.steps_ = np.sqrt(np.diff(self.thresholds_, axis=1, prepend=0)).astype(np.float32)
        return self

    def transform(self, X):
        X = np.asarray(X, np.float32)
        return ((X[:, :, None] >= self.thresholds_) * self.steps_).reshape(len(X), -1)

    def fit_transform(self, X):
        return self.fit(X).transform(X)


def lbp_kernel(folder, split, y, kernel):
    """The LBP block rebuilt from the raw histograms: AdditiveChi2Sampler (2 sample steps) for "chi2",
    :class:`IntersectionMap` for "min", the dump's own Hellinger map for "hellinger" (a control: the dump's block
    again), then the dump's whitened PCA (500 components) refitted."""
    from sklearn.base import clone
    from sklearn.kernel_approximation import AdditiveChi2Sampler

    train, test = raw_lbp(folder, split)
    block = joblib.load(Path(folder) / "features.joblib").named_steps["features"].get_params()["lbp"]
    sampler = {"chi2": AdditiveChi2Sampler(sample_steps=2), "min": IntersectionMap(), "hellinger": block[1]}[kernel]
    reduce = clone(block[-1])
    mapped = sampler.fit_transform(train).astype(np.float32, copy=False)
    reduce.fit(mapped, y)
    train = reduce.transform(mapped).astype(np.float32)
    del mapped
    return train, reduce.transform(sampler.transform(test).astype(np.float32)).astype(np.float32)


def keras_blocks(split, names):
    """Keras's fer-cnn layers ``names`` (layers.py) for the mirrored Training faces and ``split``'s faces, mirrors."""
    with np.load(EXP / "fer-cnn-layers" / "Training.npz") as a, np.load(EXP / "fer-cnn-layers" / f"{split}.npz") as b:
        return [(a[name], b[name]) for name in names]


def mean_views(X):
    """Each row of the first half and its mirror image in the second half replaced by their mean, in place."""
    n = len(X) // 2
    X[:n] = X[n:] = (X[:n] + X[n:]) / 2


def run(folder, variant, split, jobs):
    variant_name = variant
    variant, _, modifiers = variant.partition(":")
    modifiers = [m for m in modifiers.split(",") if m]
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
    for kernel in ("chi2", "min", "hellinger"):
        if f"lbp-{kernel}" in modifiers:
            start = int(np.sum(widths[:names.index("lbp")]))
            lbp = slice(start, start + widths[names.index("lbp")])
            train[:, lbp], test[:, lbp] = lbp_kernel(folder, split, y, kernel)
    extra = [m.rstrip("x") for m in modifiers if m.rstrip("x") in ("pool3", "pool4")]
    if "keras" in modifiers or extra:
        shrink = np.sqrt(len(extra) + 1) if any(m.endswith("x") for m in modifiers) else 1
        blocks = keras_blocks(split, ["embedding"] + extra)
        learned = [standardised(a, b, LEARNED_WEIGHT / shrink) for a, b in blocks]
        train[:, cnn], test[:, cnn] = learned[0]
        train = np.hstack([train] + [a for a, _ in learned[1:]])
        test = np.hstack([test] + [b for _, b in learned[1:]])
        cnn = np.r_[cnn, np.arange(train.shape[1] - sum(a.shape[1] for a, _ in learned[1:]), train.shape[1])]
    if float(weight) != 1:
        train[:, cnn] *= float(weight)
        test[:, cnn] *= float(weight)
    views = 2
    if "mean-cnn" in modifiers:
        columns = train[:, cnn], test[:, cnn]
        for block in columns:
            mean_views(block)
        train[:, cnn], test[:, cnn] = columns
    if "mean-all" in modifiers:
        n = len(y) // 2
        train, y = (train[:n] + train[n:]) / 2, y[:n]
        test = (test[:len(labels)] + test[len(labels):]) / 2
        views = 1
    started = time.perf_counter()
    if dims != "full":
        seeds = [int(m[4:]) for m in modifiers if m.startswith("seed")]
        projection = LinearProjection(int(dims), random_state=seeds[0] if seeds else 0).fit(train)
        train, test = projection.transform(train), projection.transform(test)
    n = len(y) // views
    local = CompactLocalSVM(int(k), float(C), storage=storage, mirrors=bank == "all").fit(
        train, y, groups=np.tile(np.arange(n), views))
    fit_seconds = time.perf_counter() - started
    halves = np.array_split(np.arange(len(labels)), jobs)
    # Each job scores a share of the faces in both views (test holds the faces, then their mirrors).
    correct = Parallel(n_jobs=jobs)(delayed(score_rows)(
        local, test[np.concatenate([h + v * len(labels) for v in range(views)])], labels[h], views) for h in halves)
    correct = np.concatenate(correct)
    accuracy = float(correct.mean())
    # Each face's outcome, for paired comparisons between variants (compare.py); outside the repository.
    (EXP / "fused-study").mkdir(parents=True, exist_ok=True)
    np.save(EXP / "fused-study" / f"{split}-{variant_name.replace('/', '_').replace(':', '-')}.npy", correct)
    return {"variant": variant_name, "split": split, "accuracy": round(accuracy, 4), "dims": train.shape[1],
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
        record["command"] = shlex.join(["python", *sys.argv])
        print(json.dumps(record), flush=True)
        with open(args.results, "a") as out:
            out.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
