"""Check on the CPU the weights a GPU run returned, and ship them only if they beat the shipped network.

Joins the parts that ``tools/gpu/train.py`` wrote (checking the SHA-256 it
recorded), loads them with TensorFlow on the CPU, lets
:func:`~fer_classic.cnn.method.choose_storage` pick int8 kernels or float16
on PublicTest, scores every split with mirror test-time augmentation
(:func:`~fer_classic.cnn.method.score_splits`) and prints them beside the
shipped network's. It refuses unless the data's MD5 is the one trained on,
the :func:`~fer_classic.cnn.method.shipping_verdict` is yes, and PublicTest
accuracy beats the shipped network's; PrivateTest is reported, never used to
decide. Only with ``--write`` does it replace ``models/<architecture>.npz``
and its manifest entry (read afresh just before it is written, and written
whole or not at all), then rebuild the network's LiteRT files with
``tools/convert_litert.py --networks ARCH``.

Usage::

    python tools/gpu/ship.py FOLDER [--write]

FOLDER holds ``weights.json``, ``weights.npz.000``... and ``history.json``
(the ``files_at`` folder of the device tool's reply).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fer_classic.cnn.classifier import CNNClassifier  # noqa: E402
from fer_classic.cnn.method import choose_storage, score_splits, shipping_verdict  # noqa: E402
from fer_classic.data import load_fer2013  # noqa: E402
from fer_classic.store import read_manifest, save_model  # noqa: E402
from fer_classic.store.provenance import provenance  # noqa: E402

COMPARED_SPLITS = ("PublicTest", "PrivateTest", "FERPlus-PrivateTest")


def join_weights(folder, target):
    """Join ``folder``'s ``weights.npz.NNN`` into ``target``; returns ``weights.json``'s record.

    Raises
    ------
    ValueError
        When ``weights.json`` or a part is missing, or the joined bytes are
        not those the run recorded (a part from another write).
    """
    folder = Path(folder)
    try:
        record = json.loads((folder / "weights.json").read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{folder}: no readable weights.json ({error})") from None
    parts = [folder / f"weights.npz.{number:03d}" for number in range(record["parts"])]
    missing = [part.name for part in parts if not part.is_file()]
    if missing:
        raise ValueError(f"{folder}: missing {', '.join(missing)}")
    data = b"".join(part.read_bytes() for part in parts)
    if len(data) != record["bytes"] or hashlib.sha256(data).hexdigest() != record["sha256"]:
        raise ValueError(f"{folder}: the joined parts are not the weights that weights.json describes "
                         "(a run killed while writing them?)")
    Path(target).write_bytes(data)
    return record


def gpu_entry(classifier, history, record, storage, changes, metrics, verdict, data):
    """The manifest entry of a network trained by ``tools/gpu/train.py``."""
    recipe, ship, reason = history["recipe"], *verdict
    epochs = history["epochs"]
    stem = f" (3x3 stem, stride {recipe['stem_stride']})" if recipe["stem_stride"] else ""
    return {
        "kind": "cnn", "method": f"cnn/{classifier.architecture}", "architecture": classifier.architecture,
        "classifier": f"{classifier.architecture}{'-BN' if recipe['batch_norm'] else ''}{stem} "
                      f"CNN (Keras {history['keras']}), trained from scratch on a GPU",
        "parameters": {"recipe": recipe, "seed": history["seed"], "tta": classifier.tta,
                       "augmentation": "mirror, shift 10%, rotation 10 deg, zoom 10%, random erasing "
                                       f"p={recipe['erasing']:g}, {recipe['mixing']} "
                                       f"alpha={recipe['mixing_alpha']:g}, in the compiled step",
                       "class_weights": "sqrt(balanced)" if history["class_weights"] == "sqrt" else "none",
                       "precision": history["precision"]},
        "training": {"epochs_run": history["epochs_run"], "best_epoch": history["best_epoch"],
                     "stopped_by": "planned epochs within the time budget", "history": epochs,
                     "gpu_run": {"command": history["command"], "budget_seconds": history["budget_seconds"],
                                 "source_commit": history["source_commit"], "weights": record,
                                 # float32 ResNet50 weights would not come back: storage changes are from float16
                                 "returned_storage": record["storage"],
                                 "checked_on_cpu": provenance(data)}},
        "timings_seconds": {"total": history["seconds"]},
        "device": history["device"],
        "storage_dtype": storage,
        "storage_change": {"PublicTest": changes},
        "metrics": metrics,
        "shipping": {"ok": ship, "reason": reason},
        "retrain": f"KERAS_BACKEND=jax python {history['command']} (docs/gpu.md)",
        "data": {"file": data.source.name, "md5": data.md5, "train": "Training", "validation": "PublicTest",
                 "n_training_faces": history["n_training_faces"], "notes": data.notes},
    }


def rebuild_litert(architecture, data_path=None, log=print):
    """Run ``tools/convert_litert.py --networks ARCH`` where it exists; otherwise say the command to run."""
    tool = ROOT / "tools" / "convert_litert.py"
    arguments = ["--networks", architecture, *(["--data", str(data_path)] if data_path else [])]
    again = f"python tools/convert_litert.py {' '.join(arguments)}"
    if not tool.is_file():
        log(f"LiteRT files not rebuilt: no tools/convert_litert.py here; once it exists run: {again}")
        return False
    result = subprocess.run([sys.executable, str(tool), *arguments], cwd=ROOT)
    if result.returncode:
        log(f"LiteRT files not rebuilt: tools/convert_litert.py exited with {result.returncode}; once fixed run: "
            f"{again}")
    return result.returncode == 0


def ship(folder, write=False, data_path=None, models_dir=None, log=print):
    """Check the run in ``folder`` and, with ``write``, ship it; returns ``(shipped, metrics)``."""
    folder = Path(folder)
    try:
        history = json.loads((folder / "history.json").read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"ship.py: {folder}: no readable history.json ({error})") from None
    data = load_fer2013(data_path)
    if data.md5 != history["data_md5"]:
        raise SystemExit(f"ship.py: the run trained on data of MD5 {history['data_md5']}, not {data.source} "
                         f"({data.md5}); score it on the same data")
    with tempfile.TemporaryDirectory() as scratch:
        try:
            record = join_weights(folder, Path(scratch) / "weights.npz")
        except ValueError as error:
            raise SystemExit(f"ship.py: {error}") from None
        classifier = CNNClassifier.load(Path(scratch) / "weights.npz", tta="flip")
    if classifier.architecture != history["architecture"]:
        raise SystemExit(f"ship.py: the weights are {classifier.architecture}, history.json says "
                         f"{history['architecture']}")
    storage, changes = choose_storage(classifier, data["PublicTest"], log=log)
    metrics = score_splits(classifier, data)
    verdict = shipping_verdict(metrics)
    manifest = read_manifest(models_dir)
    shipped = manifest.models.get(classifier.architecture)
    before = shipped.metrics if shipped else {}
    log(f"{'split':<22}{'this run':>10}{'shipped':>10}")
    for split in COMPARED_SPLITS:
        if split in metrics:
            old = before.get(split, {}).get("accuracy")
            log(f"{split:<22}{metrics[split]['accuracy']:>10.4f}{'' if old is None else f'{old:.4f}':>10}")
    problems = [] if verdict[0] else [verdict[1]]
    public, old_public = metrics["PublicTest"]["accuracy"], before.get("PublicTest", {}).get("accuracy")
    if old_public is not None and public <= old_public:
        problems.append(f"PublicTest {public:.4f} does not beat the shipped {old_public:.4f}")
    if problems:
        log(f"not shipped: {'; '.join(problems)}")
        return False, metrics
    if not write:
        log(f"worth shipping ({verdict[1]}); run again with --write to replace models/{classifier.architecture}.npz")
        return False, metrics
    entry = gpu_entry(classifier, history, record, storage, changes, metrics, verdict, data)
    target = Path(models_dir or ROOT / "models") / f"{classifier.architecture}.npz"
    saved = save_model(classifier, target, entry)    # reads the manifest afresh, writes it whole or not at all
    log(f"shipped {target} ({storage}, {saved.size_bytes / 1e6:.1f} MB); its manifest entry replaced")
    rebuild_litert(classifier.architecture, data_path, log)
    return True, metrics


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="the run's files: weights.json, weights.npz.NNN, history.json")
    parser.add_argument("--write", action="store_true", help="replace the shipped network if this one is better")
    parser.add_argument("--data", help="fer2013.npz (default: where fer_classic finds it)")
    args = parser.parse_args(argv)
    ship(args.folder, args.write, args.data)


if __name__ == "__main__":
    main()
