"""The shipped ``fused`` model: milliseconds a face by stage, file size, re-training time and memory, accuracy.

One command measures everything:

* **ms a face**, batch 1, one thread (a child process pinned to one core, BLAS and LiteRT on one thread), the
  feature cache off, median over ``--faces`` PublicTest faces times ``--repeats`` runs: end to end
  (``predict_proba``), and each stage apart: every feature block on the face and its mirror image (the
  landmark fit is counted in the first block that needs it), the projection, the neighbour search, the local
  SVMs;
* **the file**: ``models/fused.joblib``'s size;
* **re-training** with features and embeddings cached (``train_method``, as ``tools/build_fused.py`` does), its
  seconds and the peak resident memory of the process tree; the re-trained model is not saved;
* **accuracy** of the shipped file on PublicTest and PrivateTest.

Writes ``benchmarks/results/<date>-<commit>-fused/`` (``results.json``, ``results.md``).

Usage::

    python benchmarks/fused.py [--faces 100] [--repeats 3] [--no-retrain] [--data PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def stage_latency(faces, repeats):
    """Median ms a face of each stage and end to end, in this process (pin it to one core first)."""
    import numpy as np

    from fer_classic.extract.cache import caching
    from fer_classic.store import load_model

    model, _ = load_model("fused")
    pipeline = model.estimator_
    union, project, local = pipeline.named_steps["features"], pipeline.named_steps["project"], pipeline[-1]
    model.predict_proba(faces[:1])                       # lazy loads (LiteRT, landmark model) before timing
    stages = {name: [] for name, _ in union.transformer_list}
    stages.update({"projection": [], "search": [], "local SVMs": [], "end to end": []})
    for _ in range(repeats):
        for face in faces:
            views = model.views(face[None])
            with caching(False):                          # one block of its own: blocks share the landmark fit
                blocks = []
                for name, block in union.transformer_list:
                    started = time.perf_counter()
                    blocks.append(np.asarray(block.transform(views), dtype=np.float32))
                    stages[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            X = project.transform(np.hstack(blocks))
            stages["projection"].append(time.perf_counter() - started)
            started = time.perf_counter()
            near = local.neighbours(X)
            stages["search"].append(time.perf_counter() - started)
            started = time.perf_counter()
            [local._local_probabilities(x, rows) for x, rows in zip(X, near)]
            stages["local SVMs"].append(time.perf_counter() - started)
            with caching(False):
                started = time.perf_counter()
                model.predict_proba(face[None])
                stages["end to end"].append(time.perf_counter() - started)
    return {name: round(1000 * statistics.median(seconds), 2) for name, seconds in stages.items()}


def latency_child(args):
    """Run :func:`stage_latency` in a child process pinned to one core with one thread; return its answer."""
    from fer_classic.compare.measure import SINGLE_THREAD

    command = [sys.executable, __file__, "--latency-only", "--faces", str(args.faces), "--repeats",
               str(args.repeats)] + (["--data", args.data] if args.data else [])
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **SINGLE_THREAD}, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the latency child failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def accuracy(model, data, splits):
    from fer_classic.classify.metrics import probabilities_by_split

    probabilities = probabilities_by_split(model.predict_proba, data, splits, len(model.classes_))
    return {split: round(float((model.classes_[probabilities[split].argmax(axis=1)] == data[split].labels).mean()),
                         4) for split in splits}


def to_markdown(record):
    from fer_classic.store.provenance import provenance_line

    lines = ["# The shipped fused model: latency, size, re-training, accuracy", "",
             provenance_line(record["provenance"]), "",
             f"Model `{record['method']}`, `models/{record['file']}`: {record['size_mb']} MB, sha256 "
             f"`{record['sha256'][:16]}`.", "",
             "| | PublicTest | PrivateTest |", "|---|---|---|",
             f"| accuracy of the shipped file | {record['accuracy'].get('PublicTest', '–')} | "
             f"{record['accuracy'].get('PrivateTest', '–')} |", ""]
    if record.get("latency_ms"):
        lines += [f"Milliseconds a face, batch 1, one thread, feature cache off, median over {record['faces']} "
                  f"PublicTest faces x {record['repeats']} runs; each feature block on the face and its mirror "
                  "image, the landmark fit in the first block that needs it:", "",
                  "| stage | ms |", "|---|---|", *[f"| {name} | {ms} |" for name, ms in record["latency_ms"].items()],
                  ""]
    if record.get("retrain"):
        retrain = record["retrain"]
        timings = retrain["timings_seconds"]
        lines += [f"Re-training with features and embeddings cached (`train_method`, 2 cores): {timings['total']} s "
                  f"(features {timings['features']} s, the classifier {timings['classifier_search']} s), peak "
                  f"{retrain['peak_memory_mb']} MB (process tree); {retrain['seconds']} s with the scoring of every "
                  f"split; its PublicTest accuracy {retrain['PublicTest']}.", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=100, help="PublicTest faces timed")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-retrain", action="store_true")
    parser.add_argument("--latency-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--results-dir", default=str(ROOT / "results"))
    parser.add_argument("--data")
    args = parser.parse_args(argv)
    if args.latency_only:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        import cv2

        from fer_classic.data import load_fer2013

        cv2.setNumThreads(1)
        faces = load_fer2013(args.data, ferplus=False)["PublicTest"].faces[:args.faces]
        print(json.dumps(stage_latency(faces, args.repeats)))
        return

    import fer_classic.cnn.embeddings  # noqa: F401  registers cnn-fer
    from fer_classic.classify import train_method
    from fer_classic.compare.methods import FUSED_METHOD
    from fer_classic.data import load_fer2013
    from fer_classic.store import load_model, read_manifest, shipped_models_dir
    from fer_classic.store.provenance import provenance, results_folder, save_results

    data = load_fer2013(args.data)
    record = {"provenance": provenance(data), "faces": args.faces, "repeats": args.repeats}
    entry = read_manifest().models["fused"]
    path = shipped_models_dir() / entry.file
    record.update(method=entry.method, file=entry.file, sha256=entry.sha256,
                  size_mb=round(path.stat().st_size / 1e6, 2))
    record["latency_ms"] = latency_child(args)
    model, _ = load_model("fused")
    record["accuracy"] = accuracy(model, data, ["PublicTest", "PrivateTest"])
    if not args.no_retrain:
        started = time.perf_counter()
        _, retrained = train_method(FUSED_METHOD, data, log=lambda line: print(line, file=sys.stderr, flush=True))
        record["retrain"] = {"seconds": round(time.perf_counter() - started, 1),
                             "timings_seconds": retrained["timings_seconds"],
                             "peak_memory_mb": retrained["peak_memory_mb"],
                             "PublicTest": round(retrained["metrics"]["PublicTest"]["accuracy"], 4)}
    save_results(results_folder(record, args.results_dir, "fused"), record, to_markdown(record))


if __name__ == "__main__":
    main()
