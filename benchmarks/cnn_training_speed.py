"""Is the training loop as fast as a bare ``fit``? Step times per architecture.

For each network, with its recipe's input size and batch size:

- **bare**: the same network, compiled the same way, ``fit`` on in-memory
  float32 arrays with one-hot targets: no augmentation, no sample weights,
  no callbacks but a timer (as in ``../shared/STACK.md``);
- **fit_network**: :func:`fer_classic.cnn.training.fit_network` as
  ``fer-classic train`` runs it: augmented, class-weighted batches from its
  ``PyDataset``, its callbacks and progress bar.

The figure is the median time between the ends of consecutive steps, after
the first steps (XLA compiles the step once per run); ``ratio`` is bare /
fit_network, 1.0 meaning no overhead. Run it on a quiet machine.

Usage::

    python benchmarks/cnn_training_speed.py [--architectures fer-cnn,mobilenetv2] [--steps 60] [--results-dir DIR]
    python benchmarks/cnn_training_speed.py --architectures resnet50 --stem-strides none,2,1 --bare-only
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from fer_classic.cnn.architectures import ARCHITECTURES, build_cnn  # noqa: E402
from fer_classic.cnn.recipes import recipe_for  # noqa: E402
from fer_classic.cnn.training import fit_network, make_optimizer, one_hot  # noqa: E402
from fer_classic.data import load_fer2013  # noqa: E402
from fer_classic.store.provenance import provenance, results_folder, save_results  # noqa: E402

WARMUP_STEPS = 6
DEFAULT_STEPS = {"fer-cnn": 80, "mobilenetv2": 80, "resnet50": 50, "vgg19": 36}


class StepTimer(keras.callbacks.Callback):
    """Clock readings at the end of every training step."""

    def on_train_begin(self, logs=None):
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())

    def median_step(self):
        return float(np.median(np.diff(self.ends[WARMUP_STEPS:])))


def bare_step(architecture, recipe, faces, labels):
    network = build_cnn(architecture, **recipe.network_options())
    network.compile(optimizer=make_optimizer(recipe, len(faces) // recipe.batch_size),
                    loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    timer = StepTimer()
    network.fit(faces[..., None].astype(np.float32), one_hot(labels), batch_size=recipe.batch_size, epochs=1,
                callbacks=[timer], verbose=0)
    return timer.median_step()


def loop_step(architecture, recipe, faces, labels):
    timer = StepTimer()
    fit_network(architecture, faces, labels, recipe=recipe.replace(epochs=1), callbacks=[timer],
                log=lambda line: None)
    return timer.median_step()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--architectures", default=",".join(ARCHITECTURES))
    parser.add_argument("--steps", type=int, help="steps per measurement (default: per architecture)")
    parser.add_argument("--stem-strides", default="none",
                        help="resnet50 only: comma-separated stems to time, 'none' (Keras's) or a 3x3 stem's stride")
    parser.add_argument("--bare-only", action="store_true", help="time the bare fit only")
    parser.add_argument("--results-dir", default=str(Path(__file__).resolve().parent / "results"),
                        help="folder that receives the dated results folder (default benchmarks/results)")
    args = parser.parse_args()

    data = load_fer2013()
    training = data["Training"]
    rows = []
    stems = [None if s == "none" else int(s) for s in args.stem_strides.split(",")]
    for architecture in args.architectures.split(","):
        for stem in stems if architecture == "resnet50" else [None]:
            recipe = recipe_for(architecture, stem_stride=stem)
            steps = args.steps or DEFAULT_STEPS[architecture]
            n = steps * recipe.batch_size
            faces, labels = training.faces[:n], training.labels[:n]
            bare = bare_step(architecture, recipe, faces, labels)
            ours = None if args.bare_only else loop_step(architecture, recipe, faces, labels)
            timed = ours or bare
            row = {"architecture": architecture, "stem_stride": stem, "input_size": recipe.input_size,
                   "batch_size": recipe.batch_size, "steps": steps, "bare_step_s": round(bare, 4),
                   "fit_network_step_s": None if ours is None else round(ours, 4),
                   "ratio": None if ours is None else round(bare / ours, 3),
                   "epoch_minutes": round(timed * len(training) / recipe.batch_size / 60, 2)}
            print(row, flush=True)
            rows.append(row)

    record = {"provenance": provenance(data), "warmup_steps": WARMUP_STEPS, "rows": rows}
    lines = ["# Training-loop speed: fit_network against a bare fit", "",
             f"Median step after {WARMUP_STEPS} warm-up steps; ratio = bare / fit_network (1.0: no overhead).",
             f"Machine: {record['provenance']['machine']['cpu']}, {record['provenance']['machine']['cores']} cores, "
             f"load {record['provenance']['machine']['load_average_1min_at_start']} at start; "
             f"commit {record['provenance']['commit'][:7]}.", "",
             "Epoch minutes: a Training epoch at the fit_network step (the bare step where it was not timed).", "",
             "| network | stem | input | batch | steps | bare step (s) | fit_network step (s) | ratio | epoch (min) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        stem = "3x3, stride " + str(r["stem_stride"]) if r["stem_stride"] else "default"
        ours = "–" if r["fit_network_step_s"] is None else f"{r['fit_network_step_s']:.3f}"
        ratio = "–" if r["ratio"] is None else f"{r['ratio']:.2f}"
        lines.append(f"| `{r['architecture']}` | {stem} | {r['input_size']} px | {r['batch_size']} | {r['steps']} | "
                     f"{r['bare_step_s']:.3f} | {ours} | {ratio} | {r['epoch_minutes']:.1f} |")
    save_results(results_folder(record, args.results_dir, "cnn-training-speed"), record, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
