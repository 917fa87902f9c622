"""How much each shipped model depends on where the crop falls: PrivateTest re-cropped four ways.

Faces cropped by someone else sit differently in the frame. This scores every
shipped model (or those named) on PrivateTest as FER2013 cropped it, and on
the same faces zoomed out (padded to 56 pixels, resized to 48), zoomed in by
10% and shifted by 3 pixels right and down (:mod:`fer_classic.compare.recrop`). A
model's loss is its accuracy on the original crops minus that on a re-crop.

Writes ``benchmarks/results/<date>-<commit>-recrop/``.

Usage::

    python benchmarks/recrop.py [--models classic fer-cnn] [--faces N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from fer_classic.compare.recrop import RECROPS
from fer_classic.data import load_fer2013
from fer_classic.store import list_models, load_model
from fer_classic.store.provenance import provenance, provenance_line, results_folder, save_results

BENCHMARKS = Path(__file__).resolve().parent


def to_markdown(record):
    prov = record["provenance"]
    crops = list(RECROPS)
    lines = ["# Accuracy on re-cropped PrivateTest faces", "",
             provenance_line(prov) + f" {record['faces']} PrivateTest faces.", "",
             "Accuracy on FER2013's own crops, then the change in points on each re-crop; the last column is the "
             "mean loss over the four.", "",
             "| model | original | " + " | ".join(crops) + " | mean loss |",
             "|---|---|" + "---|" * len(crops) + "---|"]
    for row in record["rows"]:
        changes = [100 * (row["accuracy"][crop] - row["accuracy"]["original"]) for crop in crops]
        lines.append(f"| `{row['model']}` | {row['accuracy']['original']:.4f} | "
                     + " | ".join(f"{change:+.2f}" for change in changes) + f" | {-np.mean(changes):.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", help="model names (default: every shipped model)")
    parser.add_argument("--faces", type=int, help="score the first N PrivateTest faces only")
    args = parser.parse_args(argv)
    shipped = [name for name, resolved in list_models().items() if resolved.source == "shipped"]
    names = args.models or shipped
    unknown = sorted(set(names) - set(shipped))
    if unknown:
        parser.error(f"--models: not shipped: {', '.join(unknown)} (shipped: {', '.join(shipped)})")
    if args.faces is not None and args.faces < 1:
        parser.error("--faces must be at least 1")
    data = load_fer2013()
    test = data["PrivateTest"]
    faces, labels = test.faces[:args.faces], test.labels[:args.faces]
    views = {"original": faces, **{name: recrop(faces) for name, recrop in RECROPS.items()}}
    rows = []
    for name in names:
        model, _ = load_model(name)
        started = time.perf_counter()
        accuracy = {view: float((model.predict_proba(rows_).argmax(axis=1) == labels).mean())
                    for view, rows_ in views.items()}
        rows.append({"model": name, "accuracy": accuracy, "seconds": round(time.perf_counter() - started, 1)})
        print(name, {k: round(v, 4) for k, v in accuracy.items()}, flush=True)
    record = {"provenance": provenance(data), "faces": int(len(labels)), "rows": rows}
    save_results(results_folder(record, BENCHMARKS / "results", "recrop"), record, to_markdown(record))


if __name__ == "__main__":
    main()
