"""Convert every shipped CNN to LiteRT, score each file with LiteRT itself, and record the files in the manifest.

For each network this writes ``models/<name>.float32.tflite`` and
``models/<name>.int8.tflite`` (:mod:`fer_classic.cnn.litert_export`), then
predicts PublicTest and PrivateTest with each file (flip test-time
augmentation, as shipped) and compares with TensorFlow on the ``.npz``
weights: accuracy, and the share of faces whose predicted emotion agrees.

The runtime each network uses by default is chosen on PublicTest only:

* int8 qualifies when it loses at most :data:`MAX_INT8_LOSS` of PublicTest
  accuracy against TensorFlow;
* of the qualifying runtimes, the faster in the latency record named by
  ``--latency`` (``benchmarks/cnn_latency.py``'s ``results.json``, measured
  on these very files) wins; without a record, int8 if it qualifies;
* a file over :data:`MAX_SHIPPED_BYTES` does not qualify, since it could
  not ship; if neither does, the smaller one is chosen, and the record
  says what it costs.

The manifest entry gets a ``litert`` field: per precision the file, its
sha256 and size, its accuracy and agreement per split; plus ``runtime``
(the choice), ``chosen_by`` (why), and the provenance of the run that
converted and scored the files (``converted``) and of the one that chose
(``chosen``). A file that is not chosen and is over
:data:`MAX_UNCHOSEN_BYTES` is measured, recorded with ``"kept": false`` and
deleted: the repository keeps its shipped files small, and this command
writes it again.

Usage::

    python tools/convert_litert.py [--networks fer-cnn ...] [--latency results.json] [--choose-only]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from fer_classic.cnn.litert_export import PRECISIONS  # noqa: E402
from fer_classic.cnn.runtimes import LITERT_PRECISIONS  # noqa: E402
from fer_classic.compare.measure import split_probabilities  # noqa: E402
from fer_classic.data import load_fer2013  # noqa: E402
from fer_classic.store import check_integrity, read_manifest, resolve_model, sha256  # noqa: E402
from fer_classic.store.catalogue import MANIFEST  # noqa: E402
from fer_classic.store.provenance import provenance  # noqa: E402

SPLITS = ("PublicTest", "PrivateTest")
MAX_INT8_LOSS = 0.001      # 0.1 points of PublicTest accuracy: about 4 of its 3,589 faces
COMMAND = "python tools/convert_litert.py"
RUNTIME_OF = {precision: runtime for runtime, precision in LITERT_PRECISIONS.items()}
MAX_UNCHOSEN_BYTES = 10_000_000
MAX_SHIPPED_BYTES = 25_000_000      # one file of the wheel, which must stay under 100 MB in all


def convert(name, data):
    """Write a network's LiteRT files and score them; returns the manifest's ``litert`` field without the choice."""
    from fer_classic.cnn.classifier import CNNClassifier
    from fer_classic.cnn.litert import LiteRTClassifier
    from fer_classic.cnn.litert_export import write_litert_files

    resolved = resolve_model(name)
    check_integrity(resolved)
    tta = resolved.entry.parameters.get("tta", "flip")
    keras_model = CNNClassifier.load(resolved.path, tta=tta)
    reference = split_probabilities(keras_model, data, SPLITS, identity=f"{resolved.entry.sha256}|tta={tta}")
    files = write_litert_files(keras_model.network_, resolved.path.with_suffix(""), PRECISIONS)
    litert = {}
    for precision, path in files.items():
        digest = sha256(path)
        predicted = split_probabilities(LiteRTClassifier(path, tta=tta), data, SPLITS, identity=f"{digest}|tta={tta}")
        metrics = {}
        for split in SPLITS:
            labels, ours, theirs = data[split].labels, predicted[split], reference[split]
            metrics[split] = {
                "accuracy": round(float((ours.argmax(1) == labels).mean()), 6),
                "tensorflow_accuracy": round(float((theirs.argmax(1) == labels).mean()), 6),
                "agreement": round(float((ours.argmax(1) == theirs.argmax(1)).mean()), 6),
                "max_probability_change": round(float(abs(ours - theirs).max()), 6)}
        litert[precision] = {"file": path.name, "sha256": digest, "size_bytes": path.stat().st_size,
                             "metrics": metrics}
        print(f"{name} {precision}: {path.stat().st_size / 1e6:.1f} MB, "
              + ", ".join(f"{split} {m['accuracy']:.4f} (TensorFlow {m['tensorflow_accuracy']:.4f}, agreement "
                          f"{m['agreement']:.2%})" for split, m in metrics.items()), flush=True)
    return litert


def _latency(record, name, runtime, digest):
    """The ms a face of ``name`` in ``runtime`` in a latency record, if measured on the file with ``digest``."""
    for row in record.get("rows", []) if record else []:
        if row.get("model") == name and row.get("runtime") == runtime and row.get("sha256") == digest:
            return row["latency_ms"]
    return None


def choose(name, litert, latency_record=None):
    """Add ``runtime`` and ``chosen_by`` to a network's ``litert`` field (see the module's docstring)."""
    public = litert["int8"]["metrics"]["PublicTest"]
    loss = public["tensorflow_accuracy"] - public["accuracy"]
    reasons = [f"int8 loses {loss * 100:+.2f} PublicTest points (bar {MAX_INT8_LOSS * 100:.1f})"]
    reasons += [f"{p}'s file is {litert[p]['size_bytes'] / 1e6:.1f} MB, over the {MAX_SHIPPED_BYTES / 1e6:.0f} MB a "
                "shipped file may take" for p in PRECISIONS if litert[p]["size_bytes"] > MAX_SHIPPED_BYTES]
    kept = [p for p in PRECISIONS if litert[p].get("kept", True)]  # a deleted file is chosen only once written again
    fits = [p for p in kept if litert[p]["size_bytes"] <= MAX_SHIPPED_BYTES]
    qualifying = [p for p in fits if p == "float32" or loss <= MAX_INT8_LOSS]
    times = {p: _latency(latency_record, name, RUNTIME_OF[p], litert[p]["sha256"]) for p in qualifying}
    if not qualifying:                    # accuracy would allow only a file that cannot ship
        precision = min(kept, key=lambda p: litert[p]["size_bytes"])
        reasons.append(f"so the smaller, {precision}")
    elif len(qualifying) > 1 and all(t is not None for t in times.values()):
        precision = min(qualifying, key=times.get)
        reasons.append("latency: " + ", ".join(f"{p} {times[p]:.2f} ms" for p in qualifying))
    else:
        precision = qualifying[-1]
        reasons += ["no latency record"] if len(qualifying) > 1 else []
    reason = "; ".join(reasons)
    print(f"{name}: {RUNTIME_OF[precision]} ({reason})")
    return {**litert, "runtime": RUNTIME_OF[precision], "chosen_by": reason}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--networks", nargs="+", help="default: every CNN in the manifest")
    parser.add_argument("--data", help="FER2013 (default: found as usual)")
    parser.add_argument("--latency", type=Path, help="a benchmarks/cnn_latency.py results.json to choose by")
    parser.add_argument("--choose-only", action="store_true",
                        help="keep the files and scores in the manifest; only choose again (with --latency)")
    args = parser.parse_args(argv)
    manifest = read_manifest()
    cnns = [name for name, entry in sorted(manifest.models.items()) if entry.kind == "cnn"]
    unknown = sorted(set(args.networks or []) - set(cnns))
    if unknown:
        parser.error(f"--networks: not a shipped CNN: {', '.join(unknown)} (the CNNs: {', '.join(cnns)})")
    if args.latency is not None and not args.latency.is_file():
        parser.error(f"--latency: no such file: {args.latency}")
    latency_record = json.loads(args.latency.read_text()) if args.latency else None
    if args.choose_only and any(manifest.models[name].litert is None for name in args.networks or cnns):
        parser.error("--choose-only: convert first (some networks have no LiteRT files yet)")
    data = None if args.choose_only else load_fer2013(args.data, ferplus=False)
    for name in args.networks or cnns:
        litert = manifest.models[name].litert if args.choose_only else convert(name, data)
        litert = choose(name, {p: litert[p] for p in PRECISIONS}, latency_record)
        folder = resolve_model(name).path.parent
        for precision, record in litert.items():
            if (isinstance(record, dict) and RUNTIME_OF.get(precision) not in (None, litert["runtime"])
                    and record["size_bytes"] > MAX_UNCHOSEN_BYTES):
                (folder / record["file"]).unlink(missing_ok=True)
                record["kept"] = False
                print(f"{name}: {record['file']} ({record['size_bytes'] / 1e6:.0f} MB) not kept: not its default")
        # Read again right before writing: other tools may have changed other entries meanwhile.
        manifest = read_manifest()
        run = {"command": " ".join([COMMAND, *sys.argv[1:]]),
               **{k: v for k, v in provenance(data).items() if k in ("commit", "dirty", "date", "machine", "data")}}
        converted = (manifest.models[name].litert or {}).get("converted") if args.choose_only else run
        manifest.models[name].litert = {**litert, "converted": converted, "chosen": run}
        manifest.write(folder / MANIFEST)
    return 0


if __name__ == "__main__":
    sys.exit(main())
