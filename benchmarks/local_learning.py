"""Local learning's neighbourhood size and C, scored on PublicTest.

``svm-local`` fits, for each test face, a linear SVM on its ``k`` nearest
training faces (:class:`fer_classic.classify.local.LocalSVM`). Training
searches only the registered grid; this script scores a wider one on a
stratified sample of PublicTest faces, each face averaged with its mirror
image as the shipped methods predict. The neighbours are found once, for the
largest ``k``, and each smaller ``k`` takes the nearest of them.

Writes ``benchmarks/results/<date>-<commit>-local-learning/``.

Usage::

    python benchmarks/local_learning.py [--faces 1200] [--neighbours 50 100 200 400 800] [--C 0.003 0.01 0.1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from fer_classic.classify.local import LocalSVM
from fer_classic.classify.methods import ALL_FEATURES, build_method, limit_components
from fer_classic.data import load_fer2013
from fer_classic.extract import with_horizontal_flips
from fer_classic.faces import mirror_faces
from fer_classic.store.provenance import provenance, provenance_line, results_folder, save_results
from fer_classic.workers import DEFAULT_JOBS

METHOD = "+".join(ALL_FEATURES) + "/svm-local"


def stratified_sample(labels, n, seed=0):
    """Indices of ``n`` rows with the classes in their overall proportions."""
    rng = np.random.default_rng(seed)
    share = n / len(labels)
    chosen = [rng.choice(np.flatnonzero(labels == c), max(1, round(share * np.sum(labels == c))), replace=False)
              for c in np.unique(labels)]
    return np.sort(np.concatenate(chosen))


def accuracy(local, views, neighbours, labels, k, C):
    """PublicTest accuracy of local learning with ``k`` neighbours and ``C``, face and mirror averaged."""
    local.set_params(n_neighbors=k, C=C)
    probabilities = sum(np.array([local._local_probabilities(x, rows[:k]) for x, rows in zip(view, nearest)])
                        for view, nearest in zip(views, neighbours))
    return float((local.classes_[probabilities.argmax(axis=1)] == labels).mean())


def to_markdown(record):
    prov = record["provenance"]
    ks = sorted({row["k"] for row in record["grid"]})
    cs = sorted({row["C"] for row in record["grid"]})
    table = {(row["k"], row["C"]): row["accuracy"] for row in record["grid"]}
    return "\n".join([
        "# Local learning: neighbourhood size and C", "",
        provenance_line(prov), "",
        f"`{METHOD}`: PublicTest accuracy on {record['faces']} stratified faces, each averaged with its mirror "
        f"image. Registered: k = {record['registered']['n_neighbors']}, C = {record['registered']['C']}.", "",
        "| k \\ C | " + " | ".join(f"{c:g}" for c in cs) + " |", "|---|" + "---|" * len(cs),
        *[f"| {k} | " + " | ".join(f"{table[(k, c)]:.4f}" if (k, c) in table else "" for c in cs) + " |" for k in ks],
        "", f"Features took {record['feature_seconds']} s (from the feature cache when warm), the grid "
        f"{record['grid_seconds']} s on {record['jobs']} cores.", ""])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results-dir", default=str(Path(__file__).resolve().parent / "results"))
    parser.add_argument("--faces", type=int, default=1200, help="PublicTest faces scored (stratified)")
    parser.add_argument("--neighbours", type=int, nargs="+", default=[50, 100, 200, 400, 800])
    parser.add_argument("--C", type=float, nargs="+", default=[0.003, 0.01, 0.1])
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS)
    parser.add_argument("--data")
    args = parser.parse_args(argv)
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    data = load_fer2013(args.data)
    record = {"provenance": provenance(data), "faces": args.faces, "jobs": args.jobs,
              "registered": LocalSVM().get_params()}
    train, validation = data["Training"], data["PublicTest"]

    started = time.perf_counter()
    faces, labels = with_horizontal_flips(train.faces, train.labels)
    model = build_method(METHOD, n_jobs=args.jobs)
    limit_components(model, len(faces))
    features = np.asarray(model[:-1].fit_transform(faces, labels), dtype=np.float32)
    rows = stratified_sample(validation.labels, args.faces)
    views = [np.asarray(model[:-1].transform(view[rows]), dtype=np.float32)
             for view in (validation.faces, mirror_faces(validation.faces))]
    record["feature_seconds"] = round(time.perf_counter() - started, 1)
    log(f"features {features.shape} in {record['feature_seconds']} s")

    started = time.perf_counter()
    local = LocalSVM(n_neighbors=max(args.neighbours)).fit(features, labels)
    neighbours = [local.neighbours(view) for view in views]
    grid = [(k, C) for k in args.neighbours for C in args.C]
    scores = Parallel(n_jobs=args.jobs)(delayed(accuracy)(local, views, neighbours, validation.labels[rows], k, C)
                                        for k, C in grid)
    record["grid_seconds"] = round(time.perf_counter() - started, 1)
    record["grid"] = [{"k": k, "C": C, "accuracy": round(score, 4)} for (k, C), score in zip(grid, scores)]
    save_results(results_folder(record, args.results_dir, "local-learning"), record, to_markdown(record))


if __name__ == "__main__":
    main()
