"""Benchmark the classical pipeline on FER2013.

Measures, and writes to ``benchmarks/results/<date>-<commit>-classical/``:

- extraction throughput (faces/s) of the features of the ``classic`` method
  on 1 and 2 cores, uncached, median of several runs;
- training time of the ``classic`` method, first with an empty feature cache,
  then with the features cached;
- where that cached retraining goes (``breakdown``): each feature's cache
  load, map and PCA fit, then the fit time and PublicTest accuracy of the MLP
  at its recipe and at cheaper variants;
- accuracy and macro-F1 on PublicTest, PrivateTest and FER+ of each single
  feature set with the linear SVM, and of the combined set with each
  classifier, so the table shows what each feature and each classifier adds;
  the time per face of local learning.

Usage::

    python benchmarks/classical.py [--parts extraction training breakdown methods] [--methods NAME ...]
                                   [--repeats 3] [--jobs 2]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import joblib
import numpy as np
from threadpoolctl import threadpool_limits

from fer_classic.classify import CLASSIFIERS, FEATURES, build_method, train_method  # noqa: E402
from fer_classic.classify.methods import ALL_FEATURES, limit_components  # noqa: E402
from fer_classic.classify.training import fit_and_score, fit_features  # noqa: E402
from fer_classic.data import load_fer2013
from fer_classic.extract import with_horizontal_flips  # noqa: E402
from fer_classic.faces import mirror_views  # noqa: E402
from fer_classic.method_name import MethodName  # noqa: E402
from fer_classic.store import read_manifest  # noqa: E402
from fer_classic.store.half_precision import pack_float16  # noqa: E402
from fer_classic.store.provenance import provenance, provenance_line, results_folder, save_results  # noqa: E402
from fer_classic.workers import DEFAULT_JOBS  # noqa: E402

ALL = "+".join(ALL_FEATURES)
CLASSIC = read_manifest().models["classic"].method  # whatever ships as `classic`
METHODS = [*(f"{feature}/svm-linear" for feature in FEATURES), "hog+lbp+landmarks/svm-linear",
           *(f"{ALL}/{classifier}" for classifier in CLASSIFIERS)]


@contextlib.contextmanager
def environment_variable(name, value):
    """Set ``name`` to ``value`` for the duration of the block, then restore it (or unset it)."""
    previous = os.environ.get(name)
    os.environ[name] = str(value)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name)
        else:
            os.environ[name] = previous


@contextlib.contextmanager
def fresh_cache():
    """Point the feature cache at a new empty folder for the duration of the block."""
    with tempfile.TemporaryDirectory(prefix="fer-classic-bench-") as folder, \
            environment_variable("FER_CLASSIC_CACHE", folder):
        yield folder


@contextlib.contextmanager
def one_thread():
    """BLAS and OpenCV on one thread in this process, so that "1 core" means one core."""
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        cv2.setNumThreads(previous)


def extraction_throughput(features, faces, n_jobs, repeats):
    """Median faces/s of the classic method's fitted feature union, uncached (one shared landmark fit).

    With one job everything runs in this process on one thread; with more,
    joblib's workers each get one BLAS thread (its default).
    """
    features.set_params(**{f"{name}__extract__n_jobs": n_jobs for name, _ in features.transformer_list})
    times = []
    for _ in range(repeats):
        with fresh_cache(), (one_thread() if n_jobs == 1 else contextlib.nullcontext()):
            started = time.perf_counter()
            features.transform(faces)
            times.append(time.perf_counter() - started)
    return {"faces": len(faces), "n_jobs": n_jobs, "seconds": [round(t, 2) for t in times],
            "median_faces_per_second": round(len(faces) / statistics.median(times), 1)}


def local_learning_cost(model, faces, repeats=3):
    """Median milliseconds per test face of a trained local-learning model's classifier on one thread.

    ``model`` averages each face with its mirror image; both views' features are computed first, so this is the
    cost of the neighbour searches and the per-face SVMs alone, on top of extraction.
    """
    pipeline, views = model.estimator_, model.views(faces)
    features = pipeline[:-1].transform(views)
    classifier = pipeline[-1]
    classifier.predict_proba(features[:2])
    times = []
    with one_thread():
        for _ in range(repeats):
            started = time.perf_counter()
            classifier.predict_proba(features)
            times.append(time.perf_counter() - started)
    return round(statistics.median(times) / len(faces) * 1000, 1)


# The MLP at its recipe (1024 units, batches of 400), at the former recipe (batches of 200) and cheaper.
MLP_VARIANTS = {
    "recipe": {},
    "batch 200 (until 2026-12-02)": {"batch_size": 200},
    "512 units": {"hidden_layer_sizes": (512,)},
}


def retraining_breakdown(data, n_jobs, log):
    """Seconds of each step of ``classic``'s retraining with its features cached, and MLP variants on them.

    Each variant is scored on PublicTest, averaging each face with its mirror image, as training does.
    """
    train, validation = data["Training"], data["PublicTest"]
    faces, labels = with_horizontal_flips(train.faces, train.labels)
    model = build_method(CLASSIC, n_jobs=n_jobs)
    limit_components(model, len(faces))
    features, steps = fit_features(model.named_steps["features"], faces, labels, log)
    branches = [pipeline for _, pipeline in model.named_steps["features"].transformer_list]
    views = np.hstack([pipeline.transform(mirror_views(validation.faces)) for pipeline in branches])
    variants = []
    for name, params in MLP_VARIANTS.items():
        mlp, accuracy, seconds = fit_and_score(model[-1], params, features, labels, views, validation.labels)
        variants.append({"variant": name, "params": params, "fit_seconds": round(seconds, 1),
                         "epochs": int(mlp.n_iter_), "PublicTest_accuracy": round(accuracy, 4)})
        log(f"MLP {name}: {variants[-1]}")
    return {"method": CLASSIC, "n_jobs": n_jobs, "steps": steps, "mlp_variants": variants}


def summary_row(method, entry):
    metrics = entry["metrics"]
    return {"method": method, "classifier": entry["classifier"],
            **{f"{split} {key}": round(metrics[split][key], 4)
               for split in metrics for key in ("accuracy", "macro_f1")},
            "train seconds (cached features)": entry["timings_seconds"]["total"],
            "peak memory MB (process and workers)": entry["peak_memory_mb"]}


def to_markdown(record):
    prov = record["provenance"]
    lines = ["# Classical pipeline on FER2013", "",
             provenance_line(prov), ""]
    if record.get("note"):
        lines += [f"**Note:** {record['note']}", ""]
    if "methods" in record:
        rows = sorted(record["methods"], key=lambda r: -r.get("PrivateTest accuracy", 0))
        columns = list(rows[0])
        lines += ["## Accuracy per method (hyper-parameters chosen on PublicTest)", "",
                  "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns),
                  *["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows], ""]
    if "classic_training" in record:
        timing = record["classic_training"]
        lines += [f"## Training time of `classic` ({CLASSIC}), {timing['n_jobs']} cores", "",
                  f"- first run, empty feature cache: {timing['uncached_seconds']:.0f} s",
                  f"- second run, features cached: {timing['cached_seconds']:.0f} s", ""]
    if "retraining_breakdown" in record:
        breakdown = record["retraining_breakdown"]
        lines += [f"## Where `classic`'s retraining goes, features cached ({breakdown['n_jobs']} cores)", "",
                  "| feature | step | seconds | columns out |", "|---|---|---|---|",
                  *[f"| {s['feature']} | {s['step']} | {s['seconds']} | {s['output_columns']} |"
                    for s in breakdown["steps"]], "",
                  "The `extract` step loads the cached features (and fits the SIFT encoder's PCA and mixture); "
                  "`reduce` fits the whitened PCA on a sample of rows and projects every row.", "",
                  "| MLP | fit seconds | epochs | PublicTest accuracy (face + mirror) |", "|---|---|---|---|",
                  *[f"| {v['variant']} | {v['fit_seconds']} | {v['epochs']} | {v['PublicTest_accuracy']} |"
                    for v in breakdown["mlp_variants"]], ""]
    for method, cost in record.get("local_learning_cost", {}).items():
        lines += [f"Local learning (`{method}`) costs {cost['ms_per_face']} ms per test face (one core; each face and "
                  f"its mirror image), on top of extraction; the model file takes {cost['file_mb']} MB "
                  f"(pickled, float16 arrays).", ""]
    if "extraction" in record:
        lines += [f"## Extraction throughput of `{CLASSIC}`'s features (uncached, median)", "",
                  *[f"- {t['n_jobs']} core(s): {t['median_faces_per_second']:.0f} faces/s over {t['faces']} faces "
                    f"(runs: {t['seconds']} s)" for t in record["extraction"]], ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results-dir", default=str(Path(__file__).resolve().parent / "results"),
                        help="folder that receives the dated results folder (default benchmarks/results)")
    parser.add_argument("--methods", nargs="+", default=METHODS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS)
    parser.add_argument("--data", help="FER2013 file or folder (default: discovered)")
    parser.add_argument("--local-learning-faces", type=int, default=300,
                        help="PrivateTest faces on which local learning's cost per face is timed")
    parser.add_argument("--extraction-faces", type=int, default=10000,
                        help="Training faces timed for extraction throughput (default 10000)")
    parser.add_argument("--note", help="a line for the report, e.g. what else ran on the machine")
    parser.add_argument("--parts", nargs="+", choices=["extraction", "training", "breakdown", "methods"],
                        default=["extraction", "training", "methods"],
                        help="what to measure (default: extraction, training and methods)")
    args = parser.parse_args(argv)
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    data = load_fer2013(args.data)
    record = {"provenance": provenance(data), "note": args.note}

    # A partial run gets its own folder: a quiet timing run and an accuracy run do not overwrite each other.
    parts = sorted(set(args.parts))
    folder = results_folder(record, args.results_dir,
                            "classical" if parts == ["extraction", "methods", "training"]
                            else "-".join(["classical", *parts]))

    if "extraction" in args.parts:
        faces = data["Training"].faces[:args.extraction_faces]
        log(f"extraction throughput on {len(faces)} Training faces")
        features = build_method(CLASSIC, n_jobs=args.jobs).named_steps["features"].fit(data["Training"].faces)
        record["extraction"] = [extraction_throughput(features, faces, jobs, args.repeats)
                                for jobs in sorted({1, args.jobs})]

    if "training" in args.parts:
        with fresh_cache():
            started = time.perf_counter()
            train_method(CLASSIC, data, n_jobs=args.jobs, log=log)
            uncached = time.perf_counter() - started
            started = time.perf_counter()
            train_method(CLASSIC, data, n_jobs=args.jobs, log=log)
            cached = time.perf_counter() - started
        record["classic_training"] = {"method": CLASSIC, "uncached_seconds": round(uncached, 1),
                                      "cached_seconds": round(cached, 1), "n_jobs": args.jobs}

    if "breakdown" in args.parts:
        record["retraining_breakdown"] = retraining_breakdown(data, args.jobs, log)

    if "methods" in args.parts:
        if any(feature.startswith("cnn-") for method in args.methods for feature in MethodName.parse(method).features):
            import fer_classic.cnn.embeddings  # noqa: F401  registers the cnn-* features
        record["methods"], record["entries"] = [], {}
        for method in args.methods:
            model, entry = train_method(method, data, n_jobs=args.jobs, log=log)
            record["entries"][method] = entry
            record["methods"].append(summary_row(method, entry))
            if "svm-local" in method.partition("/")[2]:
                with tempfile.TemporaryDirectory() as scratch:
                    path = Path(scratch) / "model.joblib"
                    joblib.dump(pack_float16(model), path, compress=3)  # as save_model writes it
                    size = path.stat().st_size
                record.setdefault("local_learning_cost", {})[method] = {
                    "ms_per_face": local_learning_cost(model, data["PrivateTest"].faces[:args.local_learning_faces]),
                    "file_mb": round(size / 1e6, 1)}
            save_results(folder, record, to_markdown(record), echo=False)  # a later failure keeps what was measured

    save_results(folder, record, to_markdown(record))


if __name__ == "__main__":
    main()
