"""The training loop of the deep branch, backend-agnostic Keras 3.

One call, :func:`fit_network`, trains a network by a
:class:`~fer_classic.cnn.recipes.Recipe`:

* every batch is augmented (:mod:`fer_classic.cnn.augment`): mirror, shift,
  rotation, zoom, random erasing and, if the recipe says so, mixup or
  cutmix;
* class weights, the square root of "balanced" ones, so that ``disgust``
  (1.5% of the faces) counts about 3x and ``happy`` about 0.7x without
  swamping the loss;
* optional label smoothing;
* a linear warm-up, then a cosine decay of the learning rate to zero at the
  recipe's last epoch, as a schedule inside the optimiser (no Python runs
  per step);
* early stopping on the validation split (PublicTest), keeping the best
  epoch's weights;
* a checkpoint after every epoch (the whole model with its optimiser state,
  plus the best weights) that ``resume`` continues from;
* optionally a warm start from a trained network's weights, with a fresh
  optimiser and schedule: a warm restart (Loshchilov & Hutter, "SGDR",
  ICLR 2017), or a change of input size (the weights of a network that ends
  in global pooling do not depend on it).

The loop is as fast as a bare ``fit`` on in-memory arrays:
``benchmarks/cnn_training_speed.py`` measures both.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import keras
import numpy as np
from tqdm.auto import tqdm

from ..atomic import write_text
from ..faces import EMOTIONS
from .architectures import build_cnn
from .augment import mix_pairs, random_affine, random_erasing
from .recipes import Recipe


def class_weights(labels, n_classes=len(EMOTIONS)):
    """Square roots of balanced class weights, normalised to a mean of 1 per face.

    Parameters
    ----------
    labels : ndarray of int, shape (n,)

    Returns
    -------
    ndarray of float32, shape (n_classes,)
    """
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    weights = np.sqrt(len(labels) / (n_classes * np.maximum(counts, 1)))
    return (weights / (weights[labels].mean())).astype(np.float32)


def one_hot(labels, n_classes=len(EMOTIONS)):
    """(n,) int labels -> (n, n_classes) float32 targets."""
    return np.eye(n_classes, dtype=np.float32)[np.asarray(labels)]


class AugmentedBatches(keras.utils.PyDataset):
    """Shuffled, augmented, class-weighted batches; deterministic given seed and epoch.

    Each item is ``(faces (b, 48, 48, 1) float32, targets (b, 7) float32,
    sample weights (b,) float32)``.
    """

    def __init__(self, faces, labels, recipe, seed, epoch=0):
        super().__init__()
        self.faces, self.recipe, self.seed = faces, recipe, seed
        self.targets = one_hot(labels)
        self.weights = class_weights(labels)[labels]
        self.epoch = epoch
        self._order = np.random.default_rng([seed, epoch]).permutation(len(labels))

    def __len__(self):
        return math.ceil(len(self.faces) / self.recipe.batch_size)

    def __getitem__(self, index):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        size = self.recipe.batch_size
        rows = self._order[index * size:(index + 1) * size]
        faces = random_erasing(random_affine(self.faces[rows], rng), rng, probability=self.recipe.erasing)
        targets = self.targets[rows]
        if self.recipe.mixing != "none":
            faces, targets = mix_pairs(faces, targets, rng, self.recipe.mixing, self.recipe.mixing_alpha)
        return faces[..., None].astype(np.float32), targets, self.weights[rows]

    def on_epoch_end(self):
        self.epoch += 1
        self._order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.faces))


@keras.saving.register_keras_serializable("fer_classic")
class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to ``peak`` over ``warmup_steps``, then cosine decay to 0 at ``total_steps``."""

    def __init__(self, peak, warmup_steps, total_steps):
        self.peak, self.warmup_steps, self.total_steps = float(peak), int(warmup_steps), int(total_steps)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        warmup = self.peak * (step + 1) / max(self.warmup_steps, 1)
        progress = keras.ops.clip((step - self.warmup_steps) / max(self.total_steps - self.warmup_steps, 1), 0, 1)
        cosine = 0.5 * self.peak * (1 + keras.ops.cos(math.pi * progress))
        return keras.ops.where(step < self.warmup_steps, warmup, cosine)

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps, "total_steps": self.total_steps}


def make_optimizer(recipe, steps_per_epoch):
    """The recipe's optimiser with its warm-up + cosine schedule."""
    schedule = WarmupCosine(recipe.learning_rate, round(recipe.warmup_epochs * steps_per_epoch),
                            recipe.epochs * steps_per_epoch)
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(schedule)
    if recipe.optimizer == "adamw":
        return keras.optimizers.AdamW(schedule, weight_decay=recipe.weight_decay)
    return keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, weight_decay=recipe.weight_decay or None)


class TrainingControl(keras.callbacks.Callback):
    """Progress bar, per-epoch record, checkpoints and early stopping.

    Per batch it only advances the progress bar, from Keras's asynchronous
    callback thread (``async_safe``), so the training step never waits on it.
    """

    async_safe = True

    def __init__(self, state, patience, checkpoint_dir, progress, log):
        super().__init__()
        self.state, self.patience, self.checkpoint_dir = state, patience, checkpoint_dir
        self.progress, self.log = progress, log
        self.best_weights = None
        self.bar = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()
        self.bar = tqdm(total=self.params["steps"], desc=f"epoch {epoch + 1}", unit="batch", leave=False,
                        disable=not self.progress)

    def on_train_batch_end(self, batch, logs=None):
        self.bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        self.bar.close()
        seconds = time.perf_counter() - self._started
        self.state["seconds"] += seconds
        self.state["epoch"] = epoch + 1
        logs = logs or {}
        record = {key: float(value) for key, value in logs.items() if np.isscalar(value)}
        record.pop("learning_rate", None)
        record.update(epoch=epoch + 1, epoch_seconds=round(seconds, 1), seconds=round(self.state["seconds"], 1))
        self.state["history"].append(record)
        score = record.get("val_accuracy", record.get("accuracy"))
        if score > self.state["best_score"]:
            self.state["best_score"], self.state["best_epoch"] = score, epoch + 1
            self.best_weights = self.model.get_weights()
            if self.checkpoint_dir:
                _save_replacing(self.model.save_weights, self.checkpoint_dir / "best.weights.h5")
        self.log(f"epoch {epoch + 1}: loss {record.get('loss', float('nan')):.3f}, "
                 f"accuracy {record.get('accuracy', float('nan')):.3f}, "
                 f"validation accuracy {record.get('val_accuracy', float('nan')):.4f}, {seconds:.0f} s")
        if self.checkpoint_dir:
            # The state last: it names the epoch the weights are from, so it must never get ahead of them.
            _save_replacing(self.model.save, self.checkpoint_dir / "last.keras")
            write_text(self.checkpoint_dir / "state.json", json.dumps(self.state, indent=1))
        if epoch + 1 - self.state["best_epoch"] >= self.patience:
            self.log(f"early stop: no better validation accuracy for {self.patience} epochs")
            self.model.stop_training = True


def _save_replacing(save, path):
    """Call Keras's ``save(path)`` on a hidden name beside ``path``, then rename: a checkpoint is whole or absent."""
    partial = path.with_name(f".partial.{path.name}")     # Keras checks the suffix, so it stays last
    save(partial)
    os.replace(partial, path)


def _new_state(recipe):
    return {"recipe": recipe.as_dict(), "epoch": 0, "seconds": 0.0, "best_score": -1.0, "best_epoch": 0,
            "history": []}


def _resume_state(checkpoint_dir, architecture, recipe, log):
    """The checkpoint's ``state.json``, checked against its schema; a ``ValueError`` naming the file otherwise."""
    if not checkpoint_dir or not (checkpoint_dir / "state.json").is_file():
        raise FileNotFoundError(f"nothing to resume: no checkpoint in {checkpoint_dir}")
    path = checkpoint_dir / "state.json"
    damaged = f"{path}: not a checkpoint state; start afresh without --resume, or delete the folder"
    try:
        state = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as error:     # not JSON, not UTF-8, nested a million deep
        raise ValueError(f"{damaged} ({type(error).__name__})") from None
    number = lambda value: isinstance(value, (int, float)) and not isinstance(value, bool)  # noqa: E731
    count = lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= 0  # noqa: E731
    problem = None
    if not isinstance(state, dict):
        problem = "it should be a JSON object"
    elif not all(count(state.get(key)) for key in ("epoch", "best_epoch")):
        problem = "epoch and best_epoch should be counts"
    elif not all(number(state.get(key)) and math.isfinite(state[key]) for key in ("seconds", "best_score")):
        problem = "seconds and best_score should be numbers"
    elif not isinstance(state.get("history"), list) or not all(isinstance(r, dict) for r in state["history"]):
        problem = "history should be a list of objects"
    elif not isinstance(state.get("recipe", {}), dict) or not isinstance(state.get("warm_start", {}), dict):
        problem = "recipe and warm_start should be objects"
    if problem:
        raise ValueError(f"{damaged} ({problem})")
    try:
        saved = Recipe(**state.get("recipe", {})).as_dict()  # fields added since the checkpoint take their defaults
    except (TypeError, ValueError) as error:
        raise ValueError(f"{damaged} (its recipe: {error})") from None
    if saved != recipe.as_dict():
        changed = sorted(k for k, v in recipe.as_dict().items() if saved[k] != v)
        raise ValueError(f"{checkpoint_dir}: the checkpoint was trained with another recipe "
                         f"(differs in {', '.join(changed)}); resume with the same options or start afresh")
    log(f"resuming {architecture} after epoch {state['epoch']} ({state['seconds']:.0f} s trained)")
    return state


def _warm_start(path, architecture, recipe, seed):
    """A new network of the recipe's shape that starts from the weights in ``path`` (a saved weight file)."""
    from .weight_files import load_weights

    saved, source, _ = load_weights(path)
    network = build_cnn(architecture, seed=seed, **recipe.network_options())
    if saved != architecture or [w.shape for w in source.weights] != [w.shape for w in network.weights]:
        raise ValueError(f"{path}: its {saved} weights do not fit a {architecture} network with "
                         f"{recipe.network_options()}; warm-start from the same architecture, width and normalisation")
    network.set_weights(source.get_weights())
    return network


def fit_network(architecture, faces, labels, validation=None, recipe=None, seed=0, checkpoint_dir=None,
                resume=False, warm_start=None, progress=True, log=print, callbacks=()):
    """Train one network; return it with the weights of its best epoch.

    Parameters
    ----------
    architecture : str
    faces : ndarray of uint8, shape (n, 48, 48)
    labels : ndarray of int, shape (n,)
    validation : (faces, labels), optional
        Scored after every epoch; the best epoch on it is kept.
    recipe : Recipe, optional
        Default ``Recipe()``.
    seed : int
    checkpoint_dir : str or Path, optional
    resume : bool
        Continue from ``checkpoint_dir``'s last checkpoint, which must have
        been made with the same recipe.
    warm_start : str or Path, optional
        A weight file (:func:`~fer_classic.cnn.classifier.save_weights`) of
        the same architecture to start from instead of random weights; the
        recipe's warm-up and schedule run from their beginning. Not needed
        to resume: the checkpoint holds the weights it reached.
    progress : bool
        Show a progress bar per epoch.
    log : callable
        Receives a line per epoch.
    callbacks : sequence of keras.callbacks.Callback
        Extra callbacks (a timer, say).

    Returns
    -------
    network : keras.Model
    history : dict
        ``epochs`` (list of per-epoch records), ``epochs_run``,
        ``best_epoch``, ``seconds`` and ``stopped`` (why training ended);
        after a warm start, ``warm_start``: the file and its validation
        accuracy before training.
    """
    recipe = recipe or Recipe()
    checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
    if resume:
        state = _resume_state(checkpoint_dir, architecture, recipe, log)
        network = keras.saving.load_model(checkpoint_dir / "last.keras")
    else:
        state = _new_state(recipe)
        if warm_start is None:
            network = build_cnn(architecture, seed=seed, **recipe.network_options())
        else:
            network = _warm_start(warm_start, architecture, recipe, seed)
            state["warm_start"] = {"file": str(warm_start)}
    batches = AugmentedBatches(faces, labels, recipe, seed, epoch=state["epoch"])
    if not resume:
        network.compile(optimizer=make_optimizer(recipe, len(batches)),
                        loss=keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing),
                        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    if checkpoint_dir:
        checkpoint_dir.mkdir(parents=True, exist_ok=True)

    control = TrainingControl(state, recipe.patience, checkpoint_dir, progress, log)
    validation_data = None
    if validation is not None:
        validation_data = (np.asarray(validation[0])[..., None].astype(np.float32), one_hot(validation[1]))
    if "warm_start" in state and state["epoch"] == 0 and validation_data is not None:
        # What the restart has to beat; its best epoch is kept even if that is worse (the log says so).
        start = network.evaluate(*validation_data, batch_size=256, verbose=0, return_dict=True)["accuracy"]
        state["warm_start"]["validation_accuracy"] = round(float(start), 4)
        log(f"{architecture} starts from {warm_start}: validation accuracy {start:.4f}")
    stopped_early = state["epoch"] - state["best_epoch"] >= recipe.patience and state["epoch"] > 0
    if state["epoch"] < recipe.epochs and not stopped_early:
        network.fit(batches, epochs=recipe.epochs, initial_epoch=state["epoch"], validation_data=validation_data,
                    callbacks=[control, *callbacks], verbose=0)

    if control.best_weights is not None:
        network.set_weights(control.best_weights)
    elif checkpoint_dir and state["best_epoch"] and (checkpoint_dir / "best.weights.h5").is_file():
        network.load_weights(checkpoint_dir / "best.weights.h5")
    history = {"epochs": state["history"], "epochs_run": state["epoch"], "best_epoch": state["best_epoch"],
               "seconds": round(state["seconds"], 1),
               "stopped": "epochs" if state["epoch"] >= recipe.epochs else "early stopping"}
    if "warm_start" in state:
        history["warm_start"] = state["warm_start"]
    return network, history
