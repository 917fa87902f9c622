"""Training on your own faces, measured on stand-in lab sets built from FER2013: accuracy per method and wall time.

There is no real lab set here, so two stand-ins are written as labelled
folders, as a user would have them (one PNG per face, one folder per class):

* ``lab7``: about 1,000 PublicTest faces in FER2013's 7 classes, the folders
  named by synonyms (``anger``, ``happiness``, ``sadness``...), spread over
  120 synthetic persons (``s017_0042.png``);
* ``smile3``: a task of your own, ``smile`` (happy), ``frown`` (angry and
  sad) and ``calm`` (neutral), about 600 PublicTest faces, 60 persons.

PublicTest, because the shipped ``fer-cnn`` trained on the Training faces:
its embeddings of those would look better than of a face it never saw. The
persons are assigned at random, so grouping by them exercises the mechanics
but not the identity effect of a real lab set, where one person's frames look
alike.

Each candidate method (:func:`fer_classic.classify.small_sets.small_set_method_names`)
and the default are run as a user runs them, one command each, timed whole::

    fer-classic train --data lab7 --detector whole-image --cv 10 --groups '^(s[0-9]+)_' --json

and ``fer-classic evaluate --model fer-cnn --data lab7 --detector whole-image``
is checked against a count by hand of the same faces' predictions.

Writes ``benchmarks/results/<date>-<commit>-own-faces/``.

Usage::

    python benchmarks/own_faces.py [--faces 1000] [--folds 10] [--methods M ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fer_classic.classify.small_sets import small_set_method_names
from fer_classic.data import load_fer2013
from fer_classic.faces import EMOTIONS
from fer_classic.imageio import write_image
from fer_classic.store.provenance import provenance, provenance_line, results_folder, save_results

BENCHMARKS = Path(__file__).resolve().parent
GROUPS = r"^(s[0-9]+)_"
LAB7_NAMES = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")   # EMOTIONS order
SMILE3 = {"smile": ("happy",), "frown": ("angry", "sad"), "calm": ("neutral",)}


def write_set(folder, faces, names, n_persons, seed):
    """One PNG per face in ``folder/<name>/s<person>_<i>.png``; persons drawn at random."""
    persons = np.random.default_rng(seed).integers(0, n_persons, len(faces))
    for i, (face, name, person) in enumerate(zip(faces, names, persons)):
        (folder / name).mkdir(parents=True, exist_ok=True)
        write_image(folder / name / f"s{person:03d}_{i:05d}.png", face)
    return folder


def build_sets(root, n_faces, seed=0):
    """The two stand-in sets under ``root``; returns ``{name: (folder, faces, true FER2013 labels)}``."""
    data = load_fer2013(ferplus=False)
    public = data["PublicTest"]
    rng = np.random.default_rng(seed)
    lab = rng.choice(len(public), n_faces, replace=False)
    sets = {"lab7": (write_set(root / "lab7", public.faces[lab], [LAB7_NAMES[c] for c in public.labels[lab]], 120,
                               seed), public.faces[lab], public.labels[lab])}
    emotion_class = {EMOTIONS.index(e): name for name, emotions in SMILE3.items() for e in emotions}
    pool = np.flatnonzero(np.isin(public.labels, list(emotion_class)))
    chosen = rng.choice(pool, min(len(pool), (n_faces * 3) // 5), replace=False)
    sets["smile3"] = (write_set(root / "smile3", public.faces[chosen],
                                [emotion_class[c] for c in public.labels[chosen]], 60, seed + 1),
                      public.faces[chosen], public.labels[chosen])
    return data, sets


def run(command, env):
    """Run a CLI command; its JSON output, wall seconds, and stderr's last line."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout), seconds


def hand_count(folder, true_labels, faces):
    """fer-cnn's accuracy on the lab set, counted here from its predictions on the same faces."""
    from fer_classic.pipeline import EmotionRecognizer

    predicted = EmotionRecognizer.load("fer-cnn", detector="whole-image").predict(faces)
    return float((predicted == true_labels).mean()), int(len(faces))


def to_markdown(record):
    prov = record["provenance"]
    lines = ["# Training on your own faces: stand-in lab sets", "",
             provenance_line(prov), "",
             "Each row is one `fer-classic train --data SET --detector whole-image --cv "
             f"{record['folds']} --groups '{GROUPS}' --json [--method M]` command, timed whole (start-up, reading "
             "the PNGs, features from an empty cache, the cross-validation with its inner search of C, the final "
             "fit, saving). "
             "Accuracy is the mean over folds ± their standard deviation. The persons are synthetic (random), "
             "so the grouping removes no identity effect here.", ""]
    for name, rows in record["sets"].items():
        info = record["set_info"][name]
        lines += [f"## {name}: {info['faces']} faces, {len(info['classes'])} classes "
                  f"({', '.join(info['classes'])}), {info['persons']} persons", "",
                  "| method | accuracy | macro-F1 | wall s | C (gamma) chosen in most folds |", "|---|---|---|---|---|"]
        for row in rows:
            lines.append(f"| `{row['method']}`{' (default)' if row['default'] else ''} | {row['accuracy']:.4f} ± "
                         f"{row['accuracy_sd']:.4f} | {row['macro_f1']:.4f} | {row['seconds']:.1f} | "
                         f"{row['chosen']} |")
        lines.append("")
    check = record["fer_cnn_check"]
    lines += ["## `fer-cnn` scored on lab7 (synonym class names)", "",
              f"`fer-classic evaluate --model fer-cnn --data lab7 --detector whole-image --json`: accuracy "
              f"{check['evaluate_accuracy']:.4f} on {check['evaluate_n_faces']} faces, classes matched "
              f"{check['matched']}; counted by hand from `predict` on the same faces: {check['hand_accuracy']:.4f} "
              f"on {check['hand_n_faces']}. Match: {check['match']}.", ""]
    return "\n".join(lines)


def most_common(chosen):
    values, counts = np.unique([json.dumps(c, sort_keys=True) for c in chosen], return_counts=True)
    return values[counts.argmax()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=int, default=1000, help="faces in lab7 (default 1000)")
    parser.add_argument("--folds", type=int, default=10, help="cross-validation folds (default 10)")
    parser.add_argument("--methods", nargs="+", help="candidates (default: every small-set method)")
    args = parser.parse_args(argv)
    if not 100 <= args.faces <= 3000 or not 2 <= args.folds <= 20:
        parser.error("--faces must be 100 to 3000 and --folds 2 to 20")
    methods = args.methods or small_set_method_names()
    fer_classic = [sys.executable, "-m", "fer_classic"]
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        # Models and caches go to the temporary folder: the run leaves nothing behind.
        env = {**os.environ, "XDG_DATA_HOME": str(root / "data-home"), "FER_CLASSIC_CACHE": str(root / "cache")}
        data, sets = build_sets(root, args.faces)
        record = {"provenance": provenance(data), "folds": args.folds, "sets": {}, "set_info": {}}
        for name, (folder, faces, labels) in sets.items():
            rows = []
            for run_number, method in enumerate([None, *methods]):
                # Each command starts from an empty feature cache, as a user's first run does.
                env["FER_CLASSIC_CACHE"] = str(root / f"cache-{name}-{run_number}")
                command = [*fer_classic, "train", "--data", str(folder), "--detector", "whole-image", "--cv",
                           str(args.folds), "--groups", GROUPS, "--json",
                           *(["--method", method] if method else [])]
                output, seconds = run(command, env)
                cv = output["cv"]
                rows.append({"method": output["method"], "default": method is None, "accuracy": cv["accuracy"],
                             "accuracy_sd": cv["accuracy_sd"], "macro_f1": cv["macro_f1"],
                             "seconds": round(seconds, 1), "chosen": most_common(cv["chosen"]),
                             "per_class_recall": cv["per_class_recall"], "confusion": cv["confusion"]})
                print(f"{name} {rows[-1]['method']}{' (default)' if method is None else ''}: "
                      f"{cv['accuracy']:.4f} ± {cv['accuracy_sd']:.4f}, F1 {cv['macro_f1']:.4f}, {seconds:.1f} s",
                      flush=True)
            record["sets"][name] = rows
            record["set_info"][name] = {"faces": int(len(labels)), "classes": output["classes"],
                                        "persons": len({p.name.split("_")[0] for p in folder.rglob("*.png")})}
        folder, faces, labels = sets["lab7"]
        evaluated, _ = run([*fer_classic, "evaluate", "--model", "fer-cnn", "--data", str(folder), "--detector",
                            "whole-image", "--json"], env)
        hand_accuracy, hand_n = hand_count(folder, labels, faces)
        record["fer_cnn_check"] = {"evaluate_accuracy": evaluated["accuracy"], "evaluate_n_faces": evaluated["n_faces"],
                                   "matched": evaluated["matched"], "hand_accuracy": hand_accuracy,
                                   "hand_n_faces": hand_n,
                                   "match": abs(evaluated["accuracy"] - hand_accuracy) < 1e-9
                                   and evaluated["n_faces"] == hand_n}
    save_results(results_folder(record, BENCHMARKS / "results", "own-faces"), record, to_markdown(record))


if __name__ == "__main__":
    main()
