"""Re-training local learning with its features cached: seconds and peak memory, the fused method and every SVM-local.

For each method, one run fills the caches (features, embeddings, and what is fitted on them: the SIFT
vocabularies and every PCA basis). One run then trains with the features cached but nothing fitted on them (a
cache folder of hard links to the feature entries alone), and ``--runs`` re-trainings are timed with everything
cached, as ``fer-classic train`` or ``tools/build_fused.py`` would run a second time. Each run is a fresh
process: ``train_method`` with 2 workers, from reading the cached features to the chosen, stored-precision model. Scoring the
splits afterwards is left out (``splits=()``); the local SVMs' grids have one point, so PublicTest is not
read either. Peak memory is that of the process tree during the training (:class:`PeakMemory`).

The default methods are the fused model's and local learning on the comparison's four features, the
union of everything the single-feature methods compute, plus ``sift-bow/svm-local``, the one feature
outside that union.

Writes ``benchmarks/results/<date>-<commit>-retrain/`` (``results.json``, ``results.md``).

Usage::

    python benchmarks/retrain.py [--methods M ...] [--runs 3] [--data PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
COMBINED = "hog+lbp+landmarks+sift-fisher"
DEFAULT_METHODS = (f"cnn-fer+{COMBINED}/svm-local-compact", f"{COMBINED}/svm-local", f"{COMBINED}/svm-local-full",
                   f"{COMBINED}/svm-local-compact", "sift-bow/svm-local")
BAR_SECONDS, BAR_MB = 30, 3 * 1024


def retrain_once(method, data_path):
    """Train ``method`` in this process without scoring; its timings (s) and peak memory (MB)."""
    import fer_classic.cnn.embeddings  # noqa: F401  registers cnn-fer
    from fer_classic.classify import train_method
    from fer_classic.data import load_fer2013

    data = load_fer2013(data_path, ferplus=False)
    started = time.perf_counter()
    _, entry = train_method(method, data, splits=(), log=lambda line: print(line, file=sys.stderr, flush=True))
    return {"wall_seconds": round(time.perf_counter() - started, 2), "timings_seconds": entry["timings_seconds"],
            "peak_memory_mb": entry["peak_memory_mb"]}


def features_only_cache(folder):
    """A new cache folder beside ``folder`` with hard links to its feature entries and none of its fits."""
    from fer_classic.extract.cache import FIT_SUFFIX

    target = Path(tempfile.mkdtemp(prefix="retrain-features-only-", dir=folder.parent))
    for entry in folder.glob("*/*.npy"):
        if not entry.parent.name.endswith(FIT_SUFFIX):
            (target / entry.parent.name).mkdir(exist_ok=True)
            os.link(entry, target / entry.parent.name / entry.name)     # no copy: the same file
    return target


def retrain_child(method, data_path, cache=None):
    """:func:`retrain_once` in a fresh process, so that no run inherits another's memory or warm objects."""
    command = [sys.executable, __file__, "--child", method] + (["--data", data_path] if data_path else [])
    env = dict(os.environ, **({"FER_CLASSIC_CACHE": str(cache)} if cache else {}))
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"re-training {method} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def to_markdown(record):
    from fer_classic.store.provenance import provenance_line

    lines = ["# Re-training local learning with features cached", "", provenance_line(record["provenance"]), "",
             f"`train_method` with 2 workers, each run in a fresh process, the splits not scored. A first run "
             f"fills the caches. \"Fits computed\": the features cached, the vocabularies and PCA bases fitted "
             f"again (seconds, peak MB). Then everything cached, the median of {record['runs']} runs. Bar "
             f"(issue 42): {BAR_SECONDS} s and {BAR_MB} MB.", "",
             "| method | fits computed s | MB | re-train s (median) | runs s | features s | classifier s | peak MB |",
             "|---|---|---|---|---|---|---|---|"]
    for method, result in record["methods"].items():
        runs, refit = result["runs"], result["fits_computed"]
        lines.append(f"| `{method}` | {refit['timings_seconds']['total']} | {refit['peak_memory_mb']} | "
                     f"{result['median_seconds']} | "
                     f"{', '.join(str(run['timings_seconds']['total']) for run in runs)} | "
                     f"{statistics.median(run['timings_seconds']['features'] for run in runs)} | "
                     f"{statistics.median(run['timings_seconds']['classifier_search'] for run in runs)} | "
                     f"{max(run['peak_memory_mb'] for run in runs)} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS))
    parser.add_argument("--runs", type=int, default=3, help="timed re-trainings a method (default 3)")
    parser.add_argument("--data", help="FER2013 (default: found the usual way)")
    parser.add_argument("--results-dir", default=str(ROOT / "results"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(retrain_once(args.child, args.data)))
        return
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    import fer_classic.cnn.embeddings  # noqa: F401  registers cnn-fer
    from fer_classic.classify.methods import parse_method
    from fer_classic.data import load_fer2013
    from fer_classic.extract.cache import cache_dir
    from fer_classic.store.provenance import provenance, results_folder, save_results

    for method in args.methods:
        try:
            parse_method(method)
        except ValueError as error:
            parser.error(f"--methods: {error}")
    record = {"provenance": provenance(load_fer2013(args.data, ferplus=False)), "runs": args.runs, "methods": {}}
    for method in args.methods:
        print(f"{method}: filling the caches", file=sys.stderr, flush=True)
        retrain_child(method, args.data)
        features_only = features_only_cache(cache_dir())
        try:
            refit = retrain_child(method, args.data, cache=features_only)
        finally:
            shutil.rmtree(features_only)
        print(f"{method}: fits computed: {refit['timings_seconds']['total']} s, {refit['peak_memory_mb']} MB",
              file=sys.stderr, flush=True)
        runs = []
        for run in range(args.runs):
            runs.append(retrain_child(method, args.data))
            print(f"{method}: run {run + 1}/{args.runs}: {runs[-1]['timings_seconds']['total']} s, "
                  f"{runs[-1]['peak_memory_mb']} MB", file=sys.stderr, flush=True)
        record["methods"][method] = {
            "fits_computed": refit, "runs": runs,
            "median_seconds": statistics.median(run["timings_seconds"]["total"] for run in runs)}
    save_results(results_folder(record, args.results_dir, "retrain"), record, to_markdown(record))


if __name__ == "__main__":
    main()
