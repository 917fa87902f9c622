"""Train one network on a lent GPU within a wall-clock budget (Keras 3; JAX there, any backend here).

The recipe (docs/gpu.md): SGD with Nesterov momentum, a linear warm-up then a
cosine decay, mixup, label smoothing, the square roots of balanced class
weights, and random mirror, shift, rotation, zoom and erasing. Augmentation
and mixing run inside the compiled training step (:class:`GpuAugment`), so
only uint8 faces and their labels cross from the host, and with
``mixed_bfloat16`` the convolutions run in bfloat16.

The number of epochs adapts to ``--budget``: from the third epoch on, the
planned last epoch is the recipe's ``epochs`` or the last that the time left
allows at the pace measured so far, whichever comes first, and the learning
rate follows the cosine to zero at the planned end (set once per epoch). The
epoch with the best PublicTest accuracy (mirror averaged) is kept; PrivateTest
is never seen here.

Outputs in ``--out`` (they come back from the device machine, whose files
are at most 16 MiB each, 8 in all):

``weights.npz.000``, ``.001``...
    The best epoch's weights, a :func:`~fer_classic.cnn.weight_files.save_weights`
    file in float16 (float32 ResNet50 weights, 94 MB, would not come back), cut
    into parts of at most 15 MiB; ``tools/gpu/ship.py`` joins them. Rewritten,
    by a background thread, whenever an epoch beats the best so far.
``history.json``
    The recipe, the per-epoch records, the device, the SHA-256 and size of the
    joined weight file; rewritten every epoch.

Usage (on the device, see docs/gpu.md)::

    KERAS_BACKEND=jax python tools/gpu/train.py --data .gpu-data --out "$OUT" --budget 420
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

STARTED = time.monotonic()               # the budget counts from here, imports included

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from faces_pack import unpack  # noqa: E402

from fer_classic.cnn.architectures import build_cnn  # noqa: E402
from fer_classic.cnn.method import training_device  # noqa: E402
from fer_classic.cnn.recipes import recipe_for  # noqa: E402
from fer_classic.cnn.training import class_weights  # noqa: E402
from fer_classic.cnn.weight_files import save_weights  # noqa: E402
from fer_classic.faces import EMOTIONS  # noqa: E402

PART_BYTES = 15 * 2 ** 20
# The GPU recipe of each network: its CPU recipe's shape (recipes.py) with the changes below. SGD 0.1 at batch
# 256, 3 warm-up epochs, mixup 0.2 and smoothing 0.1 are the usual from-scratch CIFAR ResNet settings (He et al.
# 2016; Zhang et al. 2018); none was tuned on FER2013 yet, for want of a GPU. Their weight decay, 5e-4, is added
# to the gradient and so goes through the momentum (x 1 / (1 - 0.9)); Keras's shrinks the weights directly by
# lr x decay a step, so 5e-3 is the same decay. 120 epochs is a ceiling: the budget sets the plan (docs/gpu.md).
GPU_CHANGES = dict(epochs=120, batch_size=256, optimizer="sgd", learning_rate=0.1, weight_decay=5e-3,
                   warmup_epochs=3.0, label_smoothing=0.1, mixing="mixup", mixing_alpha=0.2, erasing=0.25,
                   patience=10 ** 6)
NETWORK_CHANGES = {"resnet50": {"stem_stride": 1}, "fer-cnn": {"width": 64}}
PLAN_FROM_EPOCH = 2     # the first epoch's time includes compilation: plan from the second's pace on


def gpu_recipe(architecture, **changes):
    """The GPU recipe of ``architecture`` with ``changes`` (``None`` values ignored)."""
    given = {name: value for name, value in changes.items() if value is not None}
    return recipe_for(architecture, **{**GPU_CHANGES, **NETWORK_CHANGES.get(architecture, {}), **given})


class GpuAugment(keras.layers.Layer):
    """Random mirror, shift, rotation, zoom, erasing and mixing of a batch, inside the compiled step.

    The same distributions as :mod:`fer_classic.cnn.augment` (shift 10%,
    rotation 10 degrees, zoom 10%, edge replication, erasing 2-20% of the
    face with uniform noise, Beta(alpha, alpha) mixing with the batch
    reversed), drawn with Keras's random ops so that they compile into the
    step on any backend. Identity outside training.
    """

    def __init__(self, recipe, seed=0, shift=0.1, rotation=10.0, zoom=0.1, **kwargs):
        super().__init__(**kwargs)
        self.recipe, self.shift, self.rotation, self.zoom = recipe, shift, rotation, zoom
        self.seeds = keras.random.SeedGenerator(seed)

    def _uniform(self, shape, low, high):
        return keras.random.uniform(shape, low, high, seed=self.seeds)

    def _affine(self, faces):
        n, side = ops.shape(faces)[0], faces.shape[1]
        angle = self._uniform((n,), -self.rotation, self.rotation) * (math.pi / 180)
        scale = self._uniform((n,), 1 - self.zoom, 1 + self.zoom)
        tx, ty = (self._uniform((n,), -self.shift, self.shift) * side for _ in range(2))
        mirror = ops.where(self._uniform((n,), 0, 1) < 0.5, -1.0, 1.0)
        # Output pixel p samples the input at A (p - c - t) + c with A = R(-angle) / scale, then mirrored in x.
        centre = (side - 1) / 2
        cos, sin = ops.cos(angle) / scale, ops.sin(angle) / scale
        a0, a1 = cos, sin
        b0, b1 = -sin, cos
        a2 = centre - a0 * (centre + tx) - a1 * (centre + ty)
        b2 = centre - b0 * (centre + tx) - b1 * (centre + ty)
        a0, a1, a2 = mirror * a0, mirror * a1, mirror * (a2 - centre) + centre
        zeros = ops.zeros_like(a0)
        transform = ops.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
        return ops.image.affine_transform(faces, transform, interpolation="bilinear", fill_mode="nearest")

    def _erase(self, faces, area=(0.02, 0.2), aspect=(0.3, 3.3)):
        n, side = ops.shape(faces)[0], faces.shape[1]
        target = self._uniform((n,), *area) * side * side
        ratio = ops.exp(self._uniform((n,), math.log(aspect[0]), math.log(aspect[1])))
        height = ops.minimum(ops.round(ops.sqrt(target * ratio)), side)
        width = ops.minimum(ops.round(ops.sqrt(target / ratio)), side)
        top = ops.floor(self._uniform((n,), 0, 1) * (side - height + 1))
        left = ops.floor(self._uniform((n,), 0, 1) * (side - width + 1))
        rows = ops.reshape(ops.arange(side, dtype="float32"), (1, side, 1, 1))
        cols = ops.reshape(ops.arange(side, dtype="float32"), (1, 1, side, 1))
        box = lambda v: ops.reshape(v, (-1, 1, 1, 1))  # noqa: E731
        inside = ((rows >= box(top)) & (rows < box(top + height)) & (cols >= box(left)) & (cols < box(left + width))
                  & box(self._uniform((n,), 0, 1) < self.recipe.erasing))
        noise = ops.floor(self._uniform(ops.shape(faces), 0, 256))
        return ops.where(inside, noise, faces)

    def _mix(self, faces, targets):
        side = faces.shape[1]
        alpha = self.recipe.mixing_alpha
        lam = keras.random.beta((), alpha, alpha, seed=self.seeds)
        partner_faces, partner_targets = ops.flip(faces, axis=0), ops.flip(targets, axis=0)
        if self.recipe.mixing == "mixup":
            return lam * faces + (1 - lam) * partner_faces, lam * targets + (1 - lam) * partner_targets
        cut = ops.round(side * ops.sqrt(1 - lam))                    # cutmix: a square of the partner
        top = ops.floor(self._uniform((), 0, 1) * (side - cut + 1))
        left = ops.floor(self._uniform((), 0, 1) * (side - cut + 1))
        rows = ops.reshape(ops.arange(side, dtype="float32"), (1, side, 1, 1))
        cols = ops.reshape(ops.arange(side, dtype="float32"), (1, 1, side, 1))
        inside = (rows >= top) & (rows < top + cut) & (cols >= left) & (cols < left + cut)
        kept = 1 - cut * cut / (side * side)
        return ops.where(inside, partner_faces, faces), kept * targets + (1 - kept) * partner_targets

    def call(self, faces, targets, training=False):
        if not training:
            return faces, targets
        faces = self._affine(faces)
        if self.recipe.erasing:
            faces = self._erase(faces)
        if self.recipe.mixing != "none":
            faces, targets = self._mix(faces, targets)
        return faces, targets


class Trainer(keras.Model):
    """Wraps a network for training: uint8 faces and labels in, augmented inside the step, weighted loss.

    The loss is the cross-entropy of the smoothed, mixed targets, each class's
    term weighted by its class weight (for one-hot targets the usual sample
    weighting; for mixed ones, each half by its own class).
    """

    def __init__(self, network, recipe, weights, seed=0):
        super().__init__()
        self.network, self.recipe = network, recipe
        self.augment = GpuAugment(recipe, seed)
        self.class_weights = np.asarray(weights, np.float32)

    def call(self, inputs, training=False):
        faces, labels = inputs
        faces = ops.expand_dims(ops.cast(faces, "float32"), -1)
        targets = ops.one_hot(ops.cast(labels, "int32"), len(EMOTIONS))
        faces, targets = self.augment(faces, targets, training=training)
        return self.network(faces, training=training), targets

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        probabilities, targets = y_pred
        smoothing = self.recipe.label_smoothing
        targets = targets * (1 - smoothing) + smoothing / len(EMOTIONS)
        log_p = ops.log(ops.clip(ops.cast(probabilities, "float32"), 1e-7, 1.0))
        return -ops.mean(ops.sum(targets * self.class_weights * log_p, axis=1))


class Batches(keras.utils.PyDataset):
    """Full batches of uint8 faces and labels in a fresh order each epoch; the remainder waits for a later epoch.

    Dropping the last partial batch keeps one batch shape, so the step compiles once.
    """

    def __init__(self, faces, labels, batch_size, seed, steps=None):
        super().__init__()
        self.faces, self.labels, self.batch_size, self.seed = faces, labels.astype(np.int32), batch_size, seed
        self.steps = min(steps or len(faces) // batch_size, len(faces) // batch_size)
        self.epoch = 0
        self._order = np.random.default_rng([seed, 0]).permutation(len(faces))

    def __len__(self):
        return self.steps

    def __getitem__(self, index):
        rows = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        return ((self.faces[rows], self.labels[rows]),)

    def on_epoch_end(self):
        self.epoch += 1
        self._order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.faces))


def learning_rate(recipe, epoch, planned):
    """Linear warm-up over ``warmup_epochs``, then cosine from the peak to 0 at the end of epoch ``planned``."""
    if epoch < recipe.warmup_epochs:
        return recipe.learning_rate * (epoch + 1) / (math.floor(recipe.warmup_epochs) + 1)
    progress = (epoch - recipe.warmup_epochs) / max(planned - recipe.warmup_epochs, 1)
    return 0.5 * recipe.learning_rate * (1 + math.cos(math.pi * min(progress, 1.0)))


def planned_epochs(planned, epoch, durations, seconds_left):
    """The last epoch that fits: no later than ``planned``, and no earlier than the one just started.

    ``durations`` are the epochs' seconds so far; the first is left out
    (compilation) and the slowest later one sets the pace.
    """
    if epoch < PLAN_FROM_EPOCH:
        return planned
    pace = max(durations[1:])
    return max(epoch + 1, min(planned, epoch + int(seconds_left // pace)))


def forward_flops(network):
    """Floating-point operations of one face's forward pass: 2 per multiply-add of its convolutions and dense layers.

    Normalisation, activations and pooling are left out (a few percent).
    """
    def layers(model):
        for layer in model.layers:
            yield from layers(layer) if isinstance(layer, keras.Model) else (layer,)

    total = 0
    for layer in layers(network):
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)):
            total += 2 * math.prod(layer.kernel.shape) * math.prod(layer.output.shape[1:3])
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * math.prod(layer.kernel.shape)
    return total


class WeightWriter:
    """Writes the latest best weights in a background thread, so that saving never holds up training.

    Only the newest weights handed over are written; :meth:`close` waits for
    the last. Each write replaces the parts and then ``weights.json``
    (SHA-256 and size of the joined file), the last word on which parts
    belong together.
    """

    def __init__(self, out, architecture, options):
        self.out, self.architecture, self.options = Path(out), architecture, options
        self._pending, self._lock, self._wake = None, threading.Lock(), threading.Event()
        self._closing, self.written, self._error = False, None, None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def submit(self, weights, epoch):
        if self._error is not None:
            raise RuntimeError(f"the weights could not be written to {self.out}") from self._error
        with self._lock:
            self._pending = (weights, epoch)
        self._wake.set()

    def close(self):
        """Wait for the last weights handed over; raise what stopped the writing, if anything did."""
        self._closing = True
        self._wake.set()
        self._thread.join()
        if self._error is not None:
            raise RuntimeError(f"the weights could not be written to {self.out}") from self._error

    def _run(self):
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                job, self._pending = self._pending, None
            if job is not None:
                try:
                    self.written = self._write(*job)
                except Exception as error:  # noqa: BLE001 -- handed to close(), in the training thread
                    self._error = error
                    return
            if self._closing and self._pending is None:
                return

    def _write(self, weights, epoch):
        network = _WeightsOnly(weights)
        # The whole file is written outside the output folder: 42 MB for ResNet50, it must not come back itself.
        with tempfile.TemporaryDirectory() as scratch:
            joined = Path(scratch) / "weights.npz"
            save_weights(network, self.architecture, joined, "float16", self.options)
            data = joined.read_bytes()
        parts = [data[i:i + PART_BYTES] for i in range(0, len(data), PART_BYTES)]
        for stale in self.out.glob("weights.npz.*"):
            if int(stale.suffix[1:]) >= len(parts):
                stale.unlink()
        for number, part in enumerate(parts):
            partial = self.out / f".partial.{number:03d}"
            partial.write_bytes(part)
            os.replace(partial, self.out / f"weights.npz.{number:03d}")
        record = {"epoch": epoch, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                  "parts": len(parts), "storage": "float16"}
        (self.out / ".weights.json").write_text(json.dumps(record))
        os.replace(self.out / ".weights.json", self.out / "weights.json")
        return record


class _WeightsOnly:
    """What :func:`save_weights` reads from a network: its weights, copied off the device at the best epoch."""

    def __init__(self, weights):
        self._weights = weights

    def get_weights(self):
        return self._weights


class EpochControl(keras.callbacks.Callback):
    """Per epoch: the learning rate and the plan, PublicTest accuracy (mirror averaged), the best weights, the log."""

    def __init__(self, recipe, validation, deadline, writer, history, log, epoch_flops=0.0):
        super().__init__()
        self.epoch_flops = epoch_flops
        self.recipe, self.deadline, self.writer, self.history, self.log = recipe, deadline, writer, history, log
        faces, self.val_labels = validation
        # One fixed batch shape (faces then their mirrors, padded) so that prediction compiles once.
        views = np.concatenate([faces, faces[:, :, ::-1]])[..., None].astype(np.float32)
        self.batch = 512
        self.val_views = np.concatenate([views, np.zeros((-len(views) % self.batch, *views.shape[1:]), np.float32)])
        self.planned, self.durations, self.best = recipe.epochs, [], -1.0

    def on_epoch_begin(self, epoch, logs=None):
        now = time.monotonic()
        if epoch:
            self.durations.append(now - self._began)
        self._began = now
        self.planned = planned_epochs(self.planned, epoch, self.durations, self.deadline - now)
        self.model.optimizer.learning_rate = learning_rate(self.recipe, epoch, self.planned)

    def accuracy(self):
        network = self.model.network
        probabilities = network.predict(self.val_views, batch_size=self.batch, verbose=0)[:2 * len(self.val_labels)]
        averaged = probabilities[:len(self.val_labels)] + probabilities[len(self.val_labels):]
        return float((averaged.argmax(axis=1) == self.val_labels).mean())

    def on_epoch_end(self, epoch, logs=None):
        accuracy = self.accuracy()
        seconds = time.monotonic() - self._began
        record = {"epoch": epoch + 1, "loss": round(float((logs or {}).get("loss", float("nan"))), 4),
                  "val_accuracy": round(accuracy, 4), "learning_rate": learning_rate(self.recipe, epoch, self.planned),
                  "epoch_seconds": round(seconds, 1), "seconds": round(time.monotonic() - STARTED, 1),
                  "planned_epochs": self.planned, "tflop_per_s": round(self.epoch_flops / seconds / 1e12, 3)}
        self.history["epochs"].append(record)
        if accuracy > self.best:
            self.best = accuracy
            self.history["best_epoch"] = epoch + 1
            self.writer.submit(self.model.network.get_weights(), epoch + 1)
        self.log(f"epoch {epoch + 1}/{self.planned}: loss {record['loss']:.4f}, PublicTest {accuracy:.4f} "
                 f"(best {self.best:.4f}, epoch {self.history['best_epoch']}), lr {record['learning_rate']:.4g}, "
                 f"{seconds:.1f} s ({record['tflop_per_s']:g} TFLOP/s), {record['seconds']:.0f} s since start")
        _write_json(self.writer.out / "history.json", self.history)
        if epoch + 1 >= self.planned:
            self.model.stop_training = True


def _write_json(path, content):
    partial = path.with_name(f".partial.{path.name}")
    partial.write_text(json.dumps(content, indent=1))
    os.replace(partial, path)


def _source_commit():
    """The commit prepare.sh made the slim tree from (tools/gpu/source-commit), or None outside one."""
    path = Path(__file__).with_name("source-commit")
    return path.read_text().strip() if path.is_file() else None


def load_data(path, limit=None):
    """Training and PublicTest from a packed folder (:mod:`faces_pack`) or ``fer2013.npz``; the source's MD5."""
    path = Path(path)
    if path.is_dir():
        splits, md5 = unpack(path)
    else:
        from faces_pack import SPLITS

        from fer_classic.data import file_md5

        with np.load(path) as data:
            pixels, emotion, usage = data["pixels"], data["emotion"], data["usage"]
        splits = {name: (pixels[usage == code], emotion[usage == code].astype(np.int64))
                  for code, name in enumerate(SPLITS)}
        md5 = file_md5(path)
    if limit:
        splits = {name: (faces[:limit], labels[:limit]) for name, (faces, labels) in splits.items()}
    return splits, md5


def train(args, log=print):
    """Train by ``args`` (see :func:`parse_args`); returns the history written to ``--out``."""
    deadline = STARTED + args.budget
    recipe = gpu_recipe(args.architecture, epochs=args.epochs, batch_size=args.batch_size,
                        optimizer=args.optimizer, learning_rate=args.learning_rate, weight_decay=args.weight_decay,
                        warmup_epochs=args.warmup_epochs, label_smoothing=args.label_smoothing, mixing=args.mixing,
                        mixing_alpha=args.mixing_alpha, erasing=args.erasing, width=args.width)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    splits, md5 = load_data(args.data, args.limit)
    (faces, labels), validation = splits["Training"], splits["PublicTest"]
    if len(faces) < recipe.batch_size:
        raise SystemExit(f"--batch-size {recipe.batch_size} is larger than the {len(faces)} training faces")
    keras.mixed_precision.set_global_policy(args.precision)
    keras.utils.set_random_seed(args.seed)
    options = recipe.network_options()
    network = build_cnn(args.architecture, seed=args.seed, **options)
    # The softmax in float32: its log feeds the loss, and bfloat16 keeps 8 bits of a probability.
    network.get_layer("emotion").dtype_policy = "float32"
    weights = class_weights(labels) if args.class_weights == "sqrt" else np.ones(len(EMOTIONS), np.float32)
    trainer = Trainer(network, recipe, weights, args.seed)
    if recipe.optimizer == "sgd":
        optimizer = keras.optimizers.SGD(recipe.learning_rate, momentum=0.9, nesterov=True,
                                         weight_decay=recipe.weight_decay or None)
    elif recipe.optimizer == "adamw":
        optimizer = keras.optimizers.AdamW(recipe.learning_rate, weight_decay=recipe.weight_decay)
    else:
        optimizer = keras.optimizers.Adam(recipe.learning_rate)
    optimizer.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])  # decay kernels only
    trainer.compile(optimizer=optimizer)
    history = {"architecture": args.architecture, "options": options, "recipe": recipe.as_dict(),
               "precision": args.precision, "class_weights": args.class_weights, "seed": args.seed,
               "budget_seconds": args.budget, "device": training_device(), "keras": keras.__version__,
               "source_commit": _source_commit(), "data_md5": md5, "n_training_faces": int(len(faces)),
               "command": " ".join(sys.argv), "epochs": [], "best_epoch": 0}
    log(f"{args.architecture} {options} on {history['device']}, {args.precision}, {len(faces)} faces, "
        f"batch {recipe.batch_size}, at most {recipe.epochs} epochs in {args.budget:.0f} s; "
        f"{time.monotonic() - STARTED:.0f} s spent loading")
    writer = WeightWriter(out, args.architecture, options)
    batches = Batches(faces, labels, recipe.batch_size, args.seed, args.steps)
    flops = forward_flops(network)
    # A training step costs about 3 forward passes (forward, and twice that backward); validation 1 per view.
    epoch_flops = flops * (3 * len(batches) * recipe.batch_size + 2 * len(validation[0]))
    history["forward_gflop_per_face"] = round(flops / 1e9, 3)
    log(f"{flops / 1e9:.2f} GFLOP a face forward; {epoch_flops / 1e15:.3f} PFLOP an epoch with validation")
    control = EpochControl(recipe, validation, deadline, writer, history, log, epoch_flops)
    try:
        trainer.fit(batches, epochs=recipe.epochs, callbacks=[control], verbose=0)
    finally:
        writer.close()
    history.update(epochs_run=len(history["epochs"]), weights=writer.written,
                   seconds=round(time.monotonic() - STARTED, 1))
    _write_json(out / "history.json", history)
    log(f"best PublicTest {control.best:.4f} at epoch {history['best_epoch']} of {history['epochs_run']}; "
        f"{history['seconds']:.0f} s in all; weights in {out}/weights.npz.* ({writer.written['parts']} parts)")
    return history


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a folder packed by faces_pack.py, or fer2013.npz")
    parser.add_argument("--out", required=True, help="folder for weights.npz.* and history.json")
    parser.add_argument("--architecture", default="resnet50", choices=("resnet50", "mobilenetv2", "vgg19", "fer-cnn"))
    parser.add_argument("--budget", type=float, default=420.0,
                        help="seconds from start to the end of the last epoch (default 420)")
    parser.add_argument("--precision", default="mixed_bfloat16", choices=("mixed_bfloat16", "float32"))
    parser.add_argument("--class-weights", default="sqrt", choices=("sqrt", "none"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, help="use only the first LIMIT faces of each split (tests)")
    parser.add_argument("--steps", type=int, help="at most STEPS batches an epoch (tests)")
    for name in ("epochs", "batch_size", "warmup_epochs", "learning_rate", "weight_decay", "label_smoothing",
                 "mixing_alpha", "erasing"):
        kind = int if name in ("epochs", "batch_size") else float
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, help=f"default {GPU_CHANGES[name]}")
    parser.add_argument("--optimizer", choices=("sgd", "adamw", "adam"))
    parser.add_argument("--width", type=int, help="fer-cnn's first-block channels (default 64)")
    parser.add_argument("--mixing", choices=("mixup", "cutmix", "none"))
    args = parser.parse_args(argv)
    if args.budget <= 0:
        parser.error(f"--budget must be positive, got {args.budget}")
    return args


if __name__ == "__main__":
    train(parse_args())
