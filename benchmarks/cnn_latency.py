"""Per-face latency of the shipped CNNs at batch 1 on one thread, with and without test-time augmentation.

Flip TTA runs each face and its mirror image through the network together, so
on one thread it costs about twice a plain forward pass. This measures both,
with the PublicTest accuracy each buys (PrivateTest is left to the comparison),
and writes ``benchmarks/results/<date>-<commit>-cnn-latency/``. Run it on a quiet
machine: the threads are pinned to one before TensorFlow loads.

Usage::

    python benchmarks/cnn_latency.py [--models fer-cnn mobilenetv2] [--faces 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

from fer_classic.compare.measure import SINGLE_THREAD, latency_ms

os.environ.update(SINGLE_THREAD)

from fer_classic.cnn.classifier import CNNClassifier  # noqa: E402
from fer_classic.data import load_fer2013  # noqa: E402
from fer_classic.store import read_manifest, shipped_models_dir  # noqa: E402
from fer_classic.store.provenance import provenance, results_folder, save_results  # noqa: E402

TTA = ("none", "flip")


def measure(path, tta, faces, public, repeats):
    """Median ms per face at batch 1 in each of ``repeats`` runs, and PublicTest accuracy."""
    model = CNNClassifier.load(path, tta=tta)
    runs = [round(latency_ms(model, faces), 2) for _ in range(repeats)]
    accuracy = float((model.predict(public.faces) == public.labels).mean())
    return {"tta": tta, "median_ms_per_run": runs, "median_ms": statistics.median(runs),
            "public_accuracy": round(accuracy, 4)}


def to_markdown(record):
    prov = record["provenance"]
    lines = ["# CNN latency, batch 1, one thread", "",
             f"Commit `{prov['commit'][:10]}`{' (dirty)' if prov['dirty'] else ''}, {prov['date']}, "
             f"{prov['machine']['cpu']}, data MD5 `{prov['data']['md5']}`. Command: `{prov['command']}`. "
             f"Median over {record['faces']} PrivateTest faces, one at a time; {record['repeats']} runs.", "",
             "| model | TTA | median ms/face | runs (ms) | PublicTest accuracy |", "|---|---|---|---|---|"]
    lines += [f"| `{row['model']}` | {row['tta']} | {row['median_ms']:.2f} | {row['median_ms_per_run']} | "
              f"{row['public_accuracy']:.4f} |" for row in record["rows"]]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shipped = [name for name, entry in read_manifest().models.items() if entry.kind == "cnn"]
    parser.add_argument("--models", nargs="+", default=shipped, help="shipped CNNs (default: all)")
    parser.add_argument("--faces", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--results-dir", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args(argv)
    data = load_fer2013()
    faces = data["PrivateTest"].faces[:args.faces]
    record = {"provenance": provenance(data), "faces": len(faces), "repeats": args.repeats, "rows": []}
    for name in args.models:
        path = shipped_models_dir() / read_manifest().models[name].file
        for tta in TTA:
            record["rows"].append({"model": name, **measure(path, tta, faces, data["PublicTest"], args.repeats)})
    save_results(results_folder(record, args.results_dir, "cnn-latency"), record, to_markdown(record))


if __name__ == "__main__":
    main()
