"""Store the shipped CNNs as compactly as their accuracy allows, and re-score them on every split.

Networks trained before int8 storage existed were saved in float16. For each
shipped CNN this loads the weights, lets
:func:`~fer_classic.cnn.method.choose_storage` pick int8 kernels when they
move PublicTest accuracy by at most 0.1 points against the weights as
shipped, re-scores every split with the weights now stored, and rewrites the
file and its manifest entry. The entry keeps the metrics it replaces, and
the table of sizes and accuracies goes to
``benchmarks/results/<date>-<commit>-cnn-storage/``. PrivateTest plays no
part in the choice.

Usage::

    python tools/compress_cnns.py [--models resnet50 ...]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from fer_classic.cnn.classifier import CNNClassifier  # noqa: E402
from fer_classic.cnn.method import choose_storage, score_splits, shipping_verdict  # noqa: E402
from fer_classic.data import load_fer2013  # noqa: E402
from fer_classic.store import check_integrity, read_manifest, resolve_model, save_model  # noqa: E402
from fer_classic.store.provenance import provenance, provenance_line, results_folder, save_results  # noqa: E402

COMMAND = "python tools/compress_cnns.py"


def compress(name, data):
    """Re-store one shipped CNN; returns its row for the results table."""
    resolved = resolve_model(name)
    check_integrity(resolved)
    entry = resolved.entry
    before = {"storage": entry.storage_dtype, "size_bytes": entry.size_bytes, "sha256": entry.sha256,
              "metrics": {split: entry.metrics[split]["accuracy"] for split in entry.metrics}}
    classifier = CNNClassifier.load(resolved.path, tta=entry.parameters["tta"])
    storage, changes = choose_storage(classifier, data["PublicTest"])
    row = {"model": name, "before": before, "storage": storage, "public_change": changes}
    if storage in (entry.storage_dtype, "float32"):
        print(f"{name}: stays {entry.storage_dtype}")
        return {**row, "after": before}
    metrics = score_splits(classifier, data)
    ship, reason = shipping_verdict(metrics)
    # Entries written before int8 storage existed record float16's accuracy change on its own.
    earlier = (entry.storage_change or {}).get("PublicTest") or \
        {"float16": {"accuracy": (entry.float16_accuracy_change or {}).get("PublicTest")}}
    new_entry = {key: value for key, value in entry.to_dict().items()
                 if key not in ("float16_accuracy_change", "file", "sha256", "size_bytes", "library_versions")}
    new_entry.update({
        "storage_dtype": storage, "metrics": metrics, "shipping": {"ok": ship, "reason": reason},
        # float16 was measured against float32 at training; int8 against the float16 weights it replaces.
        "storage_change": {"PublicTest": {**earlier, **changes}},
        "storage_converted": {"command": COMMAND, "from": before},
    })
    saved = save_model(classifier, resolved.path, new_entry)
    print(f"{name}: {before['storage']} {before['size_bytes'] / 1e6:.1f} MB -> {storage} "
          f"{saved.size_bytes / 1e6:.1f} MB; {reason}")
    return {**row, "after": {"storage": storage, "size_bytes": saved.size_bytes, "sha256": saved.sha256,
                             "metrics": {split: metrics[split]["accuracy"] for split in metrics}}}


def to_markdown(record):
    prov = record["provenance"]
    lines = ["# CNN weight storage: file size and accuracy", "",
             provenance_line(prov) + " Accuracy with each network's test-time augmentation; the storage is chosen "
             "on PublicTest only.", "",
             "| model | storage | size (MB) | PublicTest | PrivateTest | FER+ PrivateTest |",
             "|---|---|---|---|---|---|"]
    for row in record["rows"]:
        for stage in ("before", "after"):
            state = row[stage]
            accuracy = [f"{state['metrics'].get(split, float('nan')):.4f}"
                        for split in ("PublicTest", "PrivateTest", "FERPlus-PrivateTest")]
            lines.append(f"| `{row['model']}` ({stage}) | {state['storage']} | {state['size_bytes'] / 1e6:.1f} | "
                         + " | ".join(accuracy) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shipped = [name for name, entry in read_manifest().models.items() if entry.kind == "cnn"]
    parser.add_argument("--models", nargs="+", default=shipped, help="shipped CNNs (default: all)")
    parser.add_argument("--results-dir", default=str(Path(__file__).resolve().parents[1] / "benchmarks" / "results"))
    args = parser.parse_args(argv)
    data = load_fer2013()
    record = {"provenance": provenance(data)}
    record["rows"] = [compress(name, data) for name in args.models]
    save_results(results_folder(record, args.results_dir, "cnn-storage"), record, to_markdown(record))


if __name__ == "__main__":
    main()
