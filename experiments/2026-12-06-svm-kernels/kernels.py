"""The kernel study of issue 30: which feature scaling, kernel map, solver and calibration suit an SVM.

Reads the blocks written by ``dump_blocks.py`` (and ``embed_cnn.py`` for the
``cnn-*`` blocks), reduces each block by a PCA fitted on 20,000 training rows
(as the registered methods do), and scores one variant per call on
PublicTest, each face averaged with its mirror image. For every variant it
appends one JSON line: PublicTest accuracy, fit time, peak memory of the
fit (NumPy's allocations, by tracemalloc), stored size, and classification
time per face (both views, features given, in batches of 512 faces; the
median of ``$KERNELS_TIMING_REPEATS`` runs, 3 by default, none if 0).

Usage::

    python kernels.py BLOCK_DIR RESULTS.jsonl VARIANT [VARIANT ...]

Variants are named in :data:`VARIANTS`.
"""

import json
import os
import pickle
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.kernel_approximation import AdditiveChi2Sampler, Nystroem
from sklearn.linear_model import SGDClassifier
from sklearn.svm import LinearSVC

from fer_classic.classify.linear_svm import LinearSVM
from fer_classic.classify.calibration import softmax
from fer_classic.classify.local import LocalSVM
from fer_classic.classify.methods import sample_rows

HANDCRAFTED = ("hog", "lbp", "landmarks", "sift-fisher")
VIEWS = ("train", "PublicTest", "PublicTest-mirror", "PrivateTest", "PrivateTest-mirror")


def pca(components, whiten):
    return PCA(components, whiten=whiten, svd_solver="randomized", iterated_power=2,
               power_iteration_normalizer="LU", random_state=0)


def reduced_block(folder, name, components=500, lbp_map="hellinger"):
    """The block's views reduced by an unwhitened PCA, and the PCA's per-component variances; cached.

    ``cnn-<network>`` blocks are embeddings (``embed_cnn.py``); ``cnn-<network>@warped`` uses the embeddings of
    warped training faces as training rows.
    """
    cache = Path(folder) / f"reduced-{name}-{components}-{lbp_map}.npz"
    if cache.is_file():
        with np.load(cache) as stored:
            return {v: stored[v] for v in VIEWS}, stored["variances"]
    source, _, variant = name.partition("@")
    with np.load(Path(folder) / f"{source}.npz") as stored:
        views = {v: stored["train-warped" if (v == "train" and variant == "warped") else v] for v in VIEWS}
    if name == "lbp" and lbp_map == "chi2":
        # Undo the Hellinger map (square roots, L2) back to L1-normalised histograms, then the chi2 map.
        chi2 = AdditiveChi2Sampler(sample_steps=2)
        views = {v: chi2.fit_transform(x.astype(np.float64) ** 2).astype(np.float32) for v, x in views.items()}
    if views["train"].shape[1] <= components:
        centre = views["train"].mean(axis=0)
        views = {v: x - centre for v, x in views.items()}
        variances = views["train"].var(axis=0)
    else:
        reduction = pca(components, whiten=False).fit(views["train"][sample_rows(len(views["train"]), 20000)])
        views = {v: reduction.transform(x).astype(np.float32) for v, x in views.items()}
        variances = reduction.explained_variance_.astype(np.float32)
    np.savez(cache, variances=variances, **views)
    return views, variances


def features(folder, blocks, scaling, lbp_map="hellinger", components=500):
    """Concatenated views of ``blocks``, each block whitened or scaled to unit mean squared norm.

    ``components`` keeps that many leading components of each block (a block with fewer dimensions is
    reduced by a PCA of its own first).
    """
    parts = {v: [] for v in VIEWS}
    for name in blocks:
        views, variances = reduced_block(folder, name, lbp_map=lbp_map)
        if components < len(variances):
            if len(variances) < 500:  # not PCA-reduced yet: its columns are not ordered by variance
                reduction = pca(components, whiten=False).fit(views["train"][sample_rows(len(views["train"]), 20000)])
                views = {v: reduction.transform(x).astype(np.float32) for v, x in views.items()}
                variances = reduction.explained_variance_.astype(np.float32)
            else:
                views, variances = {v: x[:, :components] for v, x in views.items()}, variances[:components]
        if scaling in ("whitened", "whitened-l2"):
            scale = 1 / np.sqrt(np.maximum(variances, 1e-12))
        elif scaling in ("block", "block-l2"):
            scale = np.full(len(variances), 1 / np.sqrt(variances.sum()))
        else:
            raise ValueError(scaling)
        for v in VIEWS:
            parts[v].append(views[v] * scale.astype(np.float32))
    joined = {v: np.hstack(parts[v]) for v in VIEWS}
    if scaling.endswith("-l2"):
        joined = {v: x / np.linalg.norm(x, axis=1, keepdims=True) for v, x in joined.items()}
    return joined


def median_gamma(X, n=2000, seed=0):
    """1 / the median squared distance between random pairs of rows: the usual RBF bandwidth heuristic."""
    rng = np.random.default_rng(seed)
    a, b = X[rng.choice(len(X), n)], X[rng.choice(len(X), n)]
    return float(1 / np.median(np.sum((a - b) ** 2, axis=1)))


class NystroemSVM:
    """RBF Nystroem map (on ``n_components`` random rows) then :class:`LinearSVM`; stores those rows and folded weights."""

    def __init__(self, n_components, C, gamma_scale=1.0, max_iter=100):
        self.n_components, self.C, self.gamma_scale, self.max_iter = n_components, C, gamma_scale, max_iter

    def fit(self, X, y, groups):
        gamma = self.gamma_scale * median_gamma(X)
        self.map_ = Nystroem(kernel="rbf", gamma=gamma, n_components=self.n_components, random_state=0).fit(X)
        mapped = np.vstack([self.map_.transform(X[s:s + 8192]).astype(np.float32) for s in range(0, len(X), 8192)])
        self.svm_ = LinearSVM(C=self.C, max_iter=self.max_iter).fit(mapped, y, groups=groups)
        self.classes_ = self.svm_.classes_
        return self

    def stored(self):
        """What must be kept: the landmark rows, and the SVM's weights folded into the map's normalisation."""
        return {"components": self.map_.components_.astype(np.float16),
                "weights": (self.map_.normalization_ @ self.svm_.coef_).astype(np.float16)}

    def predict_proba(self, X):
        mapped = np.vstack([self.map_.transform(X[s:s + 8192]) for s in range(0, len(X), 8192)])
        return self.svm_.predict_proba(mapped.astype(np.float32))


class SklearnWrapped:
    """A scikit-learn linear classifier, probabilities by a softmax of its scores (temperature 1)."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y, groups):
        self.estimator.fit(X, y)
        self.classes_ = self.estimator.classes_
        return self

    def stored(self):
        return {"coef": self.estimator.coef_.astype(np.float16)}

    def predict_proba(self, X):
        return softmax(self.estimator.decision_function(X))


class Stored(LinearSVM):
    def stored(self):
        return {"coef": self.coef_.astype(np.float16)}


class LocalStored(LocalSVM):
    """:class:`LocalSVM` as registered (float16 rows, exact cosine search), its stored arrays counted."""

    def fit(self, X, y, groups):
        return super().fit(X, y)

    def stored(self):
        return {"rows": self.rows_, "labels": self.y_}


VARIANTS = {
    # name: (blocks, scaling, classifier factory, lbp map[, components a block])
    "liblinear-primal/whitened": (HANDCRAFTED, "whitened", lambda: SklearnWrapped(LinearSVC(C=0.01, dual=False)), "hellinger"),
    "liblinear-dual/whitened": (HANDCRAFTED, "whitened", lambda: SklearnWrapped(LinearSVC(C=0.01, dual=True, max_iter=100)), "hellinger"),
    "sgd-hinge-avg/whitened": (HANDCRAFTED, "whitened", lambda: SklearnWrapped(SGDClassifier(loss="hinge", alpha=1e-4, average=True, max_iter=10, tol=None, random_state=0)), "hellinger"),
    "lbfgs/whitened/C0.0001": (HANDCRAFTED, "whitened", lambda: Stored(C=0.0001, max_iter=100), "hellinger"),
    "lbfgs/block/C10": (HANDCRAFTED, "block", lambda: Stored(C=10, max_iter=100), "hellinger"),
    "lbfgs/block-chi2lbp/C10": (HANDCRAFTED, "block", lambda: Stored(C=10, max_iter=100), "chi2"),
    "nystroem3000/whitened-l2/C1": (HANDCRAFTED, "whitened-l2", lambda: NystroemSVM(3000, C=1), "hellinger"),
    "nystroem3000/whitened-l2/C1/g2": (HANDCRAFTED, "whitened-l2", lambda: NystroemSVM(3000, C=1, gamma_scale=2), "hellinger"),
    "nystroem3000/block/C10/g2": (HANDCRAFTED, "block", lambda: NystroemSVM(3000, C=10, gamma_scale=2), "hellinger"),
    "nystroem3000/block/C10/g4": (HANDCRAFTED, "block", lambda: NystroemSVM(3000, C=10, gamma_scale=4), "hellinger"),
    "nystroem6000/whitened-l2/C1": (HANDCRAFTED, "whitened-l2", lambda: NystroemSVM(6000, C=1), "hellinger"),
    "local/500/float32/k200": (HANDCRAFTED, "whitened", lambda: LocalStored(200, storage="float32"), "hellinger"),
    "local/500/float16/k200": (HANDCRAFTED, "whitened", lambda: LocalStored(200), "hellinger"),
    "local/500/float16/k100": (HANDCRAFTED, "whitened", lambda: LocalStored(100), "hellinger"),
    "local/256/float16/k100": (HANDCRAFTED, "whitened", lambda: LocalStored(100), "hellinger", 256),
    "local/120/float16/k100": (HANDCRAFTED, "whitened", lambda: LocalStored(100), "hellinger", 120),
    "local/64/float16/k100": (HANDCRAFTED, "whitened", lambda: LocalStored(100), "hellinger", 64),
    "cnn-fer/local/float16/k100": (("cnn-fer-cnn",), "whitened", lambda: LocalStored(100), "hellinger"),
    "cnn-fer/lbfgs/C0.001": (("cnn-fer-cnn",), "whitened", lambda: Stored(C=0.001, max_iter=100), "hellinger"),
    "cnn-fer+all/local/500/float16/k100": (("cnn-fer-cnn",) + HANDCRAFTED, "whitened", lambda: LocalStored(100), "hellinger"),
    "cnn-fer@warped+all/local/500/float16/k100": (("cnn-fer-cnn@warped",) + HANDCRAFTED, "whitened", lambda: LocalStored(100), "hellinger"),
    "cnn-fer+all/local/120/float16/k100": (("cnn-fer-cnn",) + HANDCRAFTED, "whitened", lambda: LocalStored(100), "hellinger", 120),
    "cnn-fer+cnn-vgg19+all/local/500/float16/k100": (("cnn-fer-cnn", "cnn-vgg19") + HANDCRAFTED, "whitened", lambda: LocalStored(100), "hellinger"),
    "cnn-fer+all/lbfgs/C0.001": (("cnn-fer-cnn",) + HANDCRAFTED, "whitened", lambda: Stored(C=0.001, max_iter=100), "hellinger"),
}


def run(folder, name):
    blocks, scaling, factory, lbp_map, *components = VARIANTS[name]
    data = features(folder, blocks, scaling, lbp_map, *components)
    with np.load(Path(folder) / "labels.npz") as labels:
        y, y_public = labels["train"], labels["PublicTest"]
    groups = np.tile(np.arange(len(y) // 2), 2)  # a face and its mirror
    tracemalloc.start()
    started = time.perf_counter()
    model = factory().fit(data["train"], y, groups)
    fit_seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    timings = []
    for _ in range(int(os.environ.get("KERNELS_TIMING_REPEATS", "3"))):
        started = time.perf_counter()
        faces = data["PublicTest"][:512], data["PublicTest-mirror"][:512]
        model.predict_proba(np.vstack(faces))
        timings.append((time.perf_counter() - started) / 512 * 1000)
    probabilities = (model.predict_proba(data["PublicTest"]) + model.predict_proba(data["PublicTest-mirror"])) / 2
    accuracy = float((model.classes_[probabilities.argmax(axis=1)] == y_public).mean())
    size = len(pickle.dumps(model.stored())) if hasattr(model, "stored") else None
    return {"variant": name, "dims": int(data["train"].shape[1]), "public_accuracy": round(accuracy, 4),
            "fit_seconds": round(fit_seconds, 1), "fit_peak_numpy_gb": round(peak / 2**30, 2),
            "stored_mb": None if size is None else round(size / 2**20, 1),
            "ms_per_face_both_views": round(float(np.median(timings)), 3) if timings else None,
            "temperature": getattr(getattr(model, "svm_", model), "temperature_", None)}


if __name__ == "__main__":
    folder, results = sys.argv[1], sys.argv[2]
    for variant in sys.argv[3:]:
        record = run(folder, variant)
        print(json.dumps(record), flush=True)
        with open(results, "a") as out:
            out.write(json.dumps(record) + "\n")
