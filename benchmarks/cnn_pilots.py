"""Short pilot trainings that choose each network's recipe, scored on PublicTest.

Each pilot is a complete short training (its own warm-up and cosine
schedule over a few epochs) of one architecture with one change to a base
recipe. PrivateTest is never looked at. Results are appended to
``benchmarks/results/cnn-pilots/results.json`` after every pilot, and pilots
already recorded there are skipped, so the script can be stopped and run
again. ``results.md`` is rewritten each time with one table per network.

Usage::

    python benchmarks/cnn_pilots.py [--only fer-cnn] [--pilot "batch normalisation"] [--list]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from fer_classic.atomic import write_text  # noqa: E402
from fer_classic.cnn.recipes import Recipe  # noqa: E402
from fer_classic.cnn.training import fit_network  # noqa: E402
from fer_classic.data import load_fer2013  # noqa: E402
from fer_classic.faces import EMOTIONS
from fer_classic.store.provenance import provenance  # noqa: E402

FOLDER = Path(__file__).resolve().parent / "results" / "cnn-pilots"

# (architecture, pilot name, base recipe, change); the first pilot of a network is its base.
FER_CNN = Recipe(epochs=3)
MOBILENET = Recipe(epochs=3)
# Two epochs with a half-epoch warm-up: one epoch would be all warm-up. Longer pilots cost too much on a CPU
# (ResNet50 about 6 and VGG19 about 12 minutes an epoch at 48 px).
RESNET = Recipe(epochs=2, warmup_epochs=0.5)
VGG = Recipe(epochs=2, warmup_epochs=0.5)
PILOTS = [
    ("fer-cnn", "base: width 24, Adam 1e-3, batch 64, erasing 0.5", FER_CNN, {}),
    ("fer-cnn", "width 32", FER_CNN, {"width": 32}),
    ("fer-cnn", "label smoothing 0.1", FER_CNN, {"label_smoothing": 0.1}),
    ("fer-cnn", "mixup 0.2", FER_CNN, {"mixing": "mixup"}),
    ("fer-cnn", "SGD 0.01 Nesterov, weight decay 5e-4", FER_CNN,
     {"optimizer": "sgd", "learning_rate": 0.01, "weight_decay": 5e-4}),
    ("fer-cnn", "batch 128, Adam 2e-3", FER_CNN, {"batch_size": 128, "learning_rate": 2e-3}),
    ("mobilenetv2", "base: 48 px, Adam 1e-3, batch 64", MOBILENET, {}),
    ("mobilenetv2", "input 64 px", MOBILENET, {"input_size": 64}),
    ("resnet50", "base: 48 px, Adam 1e-3, batch 64", RESNET, {}),
    ("resnet50", "input 64 px", RESNET, {"input_size": 64}),
    ("vgg19", "base: 48 px, Adam 1e-3, batch 64", VGG, {}),
    ("vgg19", "Adam 1e-4", VGG, {"learning_rate": 1e-4}),
    # Keras's VGG19 has no normalisation; 16 plain convolutions are hard to train from scratch.
    ("vgg19", "batch normalisation (VGG19-BN)", VGG, {"batch_norm": True}),
]


def run_pilot(architecture, recipe, data):
    train, public = data["Training"], data["PublicTest"]
    network, history = fit_network(architecture, train.faces, train.labels, (public.faces, public.labels),
                                   recipe=recipe.replace(patience=recipe.epochs), progress=False)
    predicted = np.asarray(network.predict(public.faces[..., None].astype(np.float32), batch_size=256,
                                           verbose=0)).argmax(axis=1)
    shares = np.bincount(predicted, minlength=len(EMOTIONS)) / len(predicted)
    return {"public_accuracy": round(float((predicted == public.labels).mean()), 4),
            "largest_class_share": round(float(shares.max()), 3),
            "epochs": [{k: round(v, 4) for k, v in e.items()} for e in history["epochs"]],
            "minutes": round(history["seconds"] / 60, 1)}


def markdown(results):
    lines = ["# CNN recipe pilots", "",
             "Short trainings on the 28,709 Training faces, each with its own warm-up and cosine schedule; "
             "accuracy of the last epoch on PublicTest (3,589 faces), without test-time augmentation. "
             "PrivateTest was not used. Minutes are wall-clock on the machine named in each record, "
             "often with other work running, so compare them only roughly.", ""]
    order = {(architecture, name): i for i, (architecture, name, _, _) in enumerate(PILOTS)}
    for architecture in dict.fromkeys(r["architecture"] for r in results):
        # In the order of PILOTS, base first, whatever order they ran in.
        rows = sorted((r for r in results if r["architecture"] == architecture),
                      key=lambda r: order.get((r["architecture"], r["pilot"]), len(order)))
        lines += [f"## {architecture}", "", "| pilot | epochs | PublicTest accuracy | largest class share | "
                  "train accuracy (last epoch) | minutes |", "|---|---|---|---|---|---|"]
        lines += [f"| {r['pilot']} | {r['recipe']['epochs']} | {r['public_accuracy']:.4f} | "
                  f"{r['largest_class_share']:.0%} | {r['epochs'][-1].get('accuracy', float('nan')):.3f} | "
                  f"{r['minutes']} |" for r in rows]
        notes = [f"- {r['pilot']}: {r['note']}" for r in rows if r.get("note")]
        lines += ["", *notes] if notes else []
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated architectures")
    parser.add_argument("--pilot", help="run only the pilots whose name contains this text")
    parser.add_argument("--list", action="store_true", help="list the pilots and whether they have run")
    args = parser.parse_args()
    FOLDER.mkdir(parents=True, exist_ok=True)
    path = FOLDER / "results.json"
    results = json.loads(path.read_text())["pilots"] if path.is_file() else []
    done = {(r["architecture"], r["pilot"]) for r in results}
    chosen = [p for p in PILOTS if (not args.only or p[0] in args.only.split(","))
              and (not args.pilot or args.pilot in p[1])]
    if args.list:
        for architecture, name, _, _ in chosen:
            print(f"{'done' if (architecture, name) in done else 'todo'}  {architecture}: {name}")
        return
    data = load_fer2013()
    for architecture, name, base, change in chosen:
        if (architecture, name) in done:
            continue
        recipe = base.replace(**change)
        print(f"pilot {architecture}: {name}", flush=True)
        result = {"architecture": architecture, "pilot": name, "recipe": recipe.as_dict(),
                  **run_pilot(architecture, recipe, data), "provenance": provenance(data)}
        print(f"  PublicTest {result['public_accuracy']:.4f} in {result['minutes']} min", flush=True)
        results.append(result)
        write_text(path, json.dumps({"pilots": results}, indent=1) + "\n")
        write_text(FOLDER / "results.md", markdown(results))


if __name__ == "__main__":
    main()
