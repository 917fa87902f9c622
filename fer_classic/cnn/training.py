"""Training a CNN on FER2013, backend-agnostic Keras 3.

The recipe follows Khaireddin & Chen [1]_, shortened to what a CPU affords:

* augmentation of every batch (:mod:`fer_classic.cnn.augment`): mirror,
  shift, rotation, zoom and random erasing;
* class weights, the square root of "balanced" ones, so that ``disgust``
  (1.5% of the faces) counts about 3x and ``happy`` about 0.7x without
  swamping the loss;
* a cosine learning-rate schedule that anneals to zero by the end of
  whichever comes first, the epoch limit or the time budget, so a short run
  still ends at a low learning rate;
* Adam by default: on a CPU budget of a dozen epochs it learns far faster
  than the SGD with Nesterov momentum that [1]_ ran for 300 epochs (with
  SGD at 0.01 our fer-cnn was still at 24% training accuracy in its second
  epoch); ``optimizer="sgd"`` is there for long runs;
* early stopping on the validation split (PublicTest), keeping the best
  epoch's weights;
* a checkpoint after every epoch (the whole model with its optimizer state,
  plus the best weights) that ``resume`` continues from.

References
----------
.. [1] Y. Khaireddin and Z. Chen, "Facial Emotion Recognition: State of the
   Art Performance on FER2013", arXiv:2105.03588, 2021.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import keras
import numpy as np
from tqdm.auto import tqdm

from ..classify.metrics import emotion_metrics, probabilities_by_split
from ..classify.training import EVALUATION_SPLITS
from ..data import EMOTIONS
from .architectures import build_cnn
from .augment import random_affine, random_erasing
from .classifier import CNNClassifier


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


class AugmentedBatches(keras.utils.PyDataset):
    """Shuffled, augmented, class-weighted batches; deterministic given seed and epoch."""

    def __init__(self, faces, labels, batch_size, seed, epoch=0):
        super().__init__()
        self.faces, self.labels, self.batch_size, self.seed = faces, labels, batch_size, seed
        self.weights = class_weights(labels)[labels]
        self.epoch = epoch
        self._order = np.random.default_rng([seed, epoch]).permutation(len(labels))

    def __len__(self):
        return math.ceil(len(self.labels) / self.batch_size)

    def __getitem__(self, index):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        rows = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        faces = random_erasing(random_affine(self.faces[rows], rng), rng)
        return faces[..., None].astype(np.float32), self.labels[rows], self.weights[rows]

    def on_epoch_end(self):
        self.epoch += 1
        self._order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.labels))


class TrainingControl(keras.callbacks.Callback):
    """Learning-rate schedule, time budget, progress bar, checkpoints and early stopping in one place.

    They share one clock and one notion of progress, so they live together.
    """

    def __init__(self, state, total_steps, base_lr, time_budget, patience, checkpoint_dir, progress, log):
        super().__init__()
        self.state, self.total_steps, self.base_lr = state, total_steps, base_lr
        self.time_budget, self.patience, self.checkpoint_dir = time_budget, patience, checkpoint_dir
        self.progress, self.log = progress, log
        self.best_weights = None
        self.bar = None

    def _elapsed(self):
        return self.state["seconds"] + time.perf_counter() - self._started

    def _fraction_done(self):
        fraction = self.state["step"] / self.total_steps
        if self.time_budget:
            fraction = max(fraction, self._elapsed() / self.time_budget)
        return min(fraction, 1.0)

    def on_train_begin(self, logs=None):
        self._started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_first_step = self.state["step"]
        self.bar = tqdm(total=self.params["steps"], desc=f"epoch {epoch + 1}", unit="batch", leave=False,
                        disable=not self.progress)

    def on_train_batch_begin(self, batch, logs=None):
        learning_rate = 0.5 * self.base_lr * (1 + math.cos(math.pi * self._fraction_done()))
        self.model.optimizer.learning_rate.assign(learning_rate)

    def on_train_batch_end(self, batch, logs=None):
        self.state["step"] += 1
        logs = logs or {}
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{logs.get('loss', float('nan')):.3f}",
                             acc=f"{logs.get('accuracy', float('nan')):.3f}")
        if self.time_budget and self._elapsed() >= self.time_budget:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.bar.close()
        logs = logs or {}
        record = {key: float(value) for key, value in logs.items() if np.isscalar(value)}
        record["epoch"] = epoch + 1
        done = self.state["step"] - self._epoch_first_step
        if done < self.params["steps"]:  # cut short by the time budget; Keras still validates it
            record["fraction_of_epoch"] = round(done / self.params["steps"], 3)
        record["seconds"] = round(self._elapsed(), 1)
        self.state["history"].append(record)
        self.state["epoch"] = epoch + 1
        score = record.get("val_accuracy", record.get("accuracy"))
        if score > self.state["best_score"]:
            self.state["best_score"], self.state["best_epoch"] = score, epoch + 1
            self.best_weights = self.model.get_weights()
            if self.checkpoint_dir:
                self.model.save_weights(self.checkpoint_dir / "best.weights.h5")
        self.log(f"epoch {epoch + 1}: loss {record.get('loss', float('nan')):.3f}, "
                 f"accuracy {record.get('accuracy', float('nan')):.3f}, "
                 f"validation accuracy {record.get('val_accuracy', float('nan')):.4f}, {record['seconds']:.0f} s")
        if self.checkpoint_dir:
            self.state["seconds"] = self._elapsed()
            self._started = time.perf_counter()
            self.model.save(self.checkpoint_dir / "last.keras")
            (self.checkpoint_dir / "state.json").write_text(json.dumps(self.state, indent=1))
        if epoch + 1 - self.state["best_epoch"] >= self.patience:
            self.log(f"early stop: no better validation accuracy for {self.patience} epochs")
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.state["seconds"] = self._elapsed()


def _new_state():
    return {"epoch": 0, "step": 0, "seconds": 0.0, "best_score": -1.0, "best_epoch": 0, "history": []}


OPTIMIZERS = {"adam": lambda rate: keras.optimizers.Adam(rate),
              "sgd": lambda rate: keras.optimizers.SGD(rate, momentum=0.9, nesterov=True)}
DEFAULT_LEARNING_RATES = {"adam": 1e-3, "sgd": 1e-2}


def fit_network(architecture, faces, labels, validation=None, epochs=30, time_budget=None, batch_size=64,
                optimizer="adam", learning_rate=None, patience=8, seed=0, checkpoint_dir=None, resume=False,
                progress=True, log=print):
    """Train one network; return it with the weights of its best epoch.

    Parameters
    ----------
    architecture : str
    faces : ndarray of uint8, shape (n, 48, 48)
    labels : ndarray of int, shape (n,)
    validation : (faces, labels), optional
        Scored after every epoch; the best epoch on it is kept.
    epochs : int
        Upper limit on epochs (counting those of a resumed run).
    time_budget : float, optional
        Seconds of training, resumed runs included; training stops at the
        first batch past it, and that partial epoch is validated like a full
        one (a resumed run goes on with the next epoch).
    batch_size : int
    optimizer : {"adam", "sgd"}
        Adam, or SGD with Nesterov momentum 0.9.
    learning_rate : float, optional
        Peak learning rate (default 1e-3 for Adam, 1e-2 for SGD).
    patience : int
        Epochs without a better validation accuracy before stopping.
    seed : int
    checkpoint_dir : str or Path, optional
    resume : bool
        Continue from ``checkpoint_dir``'s last checkpoint.
    progress : bool
        Show a progress bar per epoch.
    log : callable
        Receives a line per epoch.

    Returns
    -------
    network : keras.Model
    history : dict
        ``epochs`` (list of per-epoch records), ``epochs_run``,
        ``best_epoch``, ``seconds`` and ``stopped`` (why training ended).
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose from {', '.join(OPTIMIZERS)}")
    learning_rate = learning_rate or DEFAULT_LEARNING_RATES[optimizer]
    checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
    state = _new_state()
    if resume:
        if not checkpoint_dir or not (checkpoint_dir / "state.json").is_file():
            raise FileNotFoundError(f"nothing to resume: no checkpoint in {checkpoint_dir}")
        state = json.loads((checkpoint_dir / "state.json").read_text())
        network = keras.saving.load_model(checkpoint_dir / "last.keras")
        log(f"resuming {architecture} after epoch {state['epoch']} ({state['seconds']:.0f} s trained)")
    else:
        network = build_cnn(architecture, seed=seed)
        network.compile(optimizer=OPTIMIZERS[optimizer](learning_rate),
                        loss="sparse_categorical_crossentropy", metrics=["accuracy"], weighted_metrics=[])
    if checkpoint_dir:
        checkpoint_dir.mkdir(parents=True, exist_ok=True)

    batches = AugmentedBatches(faces, labels, batch_size, seed, epoch=state["epoch"])
    control = TrainingControl(state, epochs * len(batches), learning_rate, time_budget, patience, checkpoint_dir,
                              progress, log)
    validation_data = None
    if validation is not None:
        validation_data = (np.asarray(validation[0])[..., None].astype(np.float32), np.asarray(validation[1]))
    if state["epoch"] < epochs and not (time_budget and state["seconds"] >= time_budget):
        network.fit(batches, epochs=epochs, initial_epoch=state["epoch"], validation_data=validation_data,
                    batch_size=batch_size, callbacks=[control], verbose=0)

    if control.best_weights is not None:
        network.set_weights(control.best_weights)
    elif checkpoint_dir and state["best_epoch"] and (checkpoint_dir / "best.weights.h5").is_file():
        network.load_weights(checkpoint_dir / "best.weights.h5")

    stopped = "epochs"
    if time_budget and state["seconds"] >= time_budget:
        stopped = "time budget"
    elif state["epoch"] < epochs:
        stopped = "early stopping"
    history = {"epochs": state["history"], "epochs_run": round(state["step"] / len(batches), 2),
               "best_epoch": state["best_epoch"], "seconds": round(state["seconds"], 1), "stopped": stopped}
    return network, history


def _device():
    """What Keras trains on, in words: backend and device kind."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return f"jax on {jax.devices()[0].device_kind}"
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return f"tensorflow on {'GPU' if gpus else 'CPU'}"
    return backend


def training_note(stopped_by, epochs_run, time_budget, device):
    """A plain sentence for the manifest when training ended before convergence."""
    if stopped_by != "time budget":
        return None
    return (f"stopped by a {time_budget:g} s time budget after {epochs_run:g} epochs on {device}: "
            "not trained to convergence; retrain on a GPU for a fair figure")


def _predicted_labels(classifier, data, splits):
    return {name: p.argmax(axis=1) for name, p in probabilities_by_split(classifier.predict_proba, data,
                                                                        splits).items()}


def train_cnn_method(architecture, data, epochs=30, time_budget=None, batch_size=64, optimizer="adam",
                     learning_rate=None, patience=8, seed=0, tta="flip", checkpoint_dir=None, resume=False,
                     progress=True, log=print):
    """The deep branch's protocol: train on Training, stop on PublicTest, report every split.

    The weights are then rounded to float16; the float16 network is kept
    when its PublicTest accuracy is within 0.1 points of float32's, and its
    metrics are the ones reported.

    Parameters
    ----------
    architecture : str
    data : fer_classic.data.FER2013
    tta : {"none", "flip", "ten-crop"}
        Test-time augmentation used for the reported metrics (and kept).
    Other parameters
        As :func:`fit_network`.

    Returns
    -------
    classifier : CNNClassifier
    entry : dict
        Manifest fields, with ``storage_dtype`` telling how to save it.
    """

    train, validation = data["Training"], data["PublicTest"]
    learning_rate = learning_rate or DEFAULT_LEARNING_RATES.get(optimizer)
    classifier = CNNClassifier(architecture, tta=tta, epochs=epochs, time_budget=time_budget, batch_size=batch_size,
                               optimizer=optimizer, learning_rate=learning_rate, patience=patience, seed=seed)
    classifier.fit(train.faces, train.labels, validation=(validation.faces, validation.labels),
                   checkpoint_dir=checkpoint_dir, resume=resume, progress=progress, log=log)

    splits = [name for name in EVALUATION_SPLITS if name in data.splits]
    accuracy32 = float((classifier.predict(validation.faces) == validation.labels).mean())
    weights32 = classifier.network_.get_weights()
    classifier.network_.set_weights([w.astype(np.float16).astype(np.float32) for w in weights32])
    predictions = _predicted_labels(classifier, data, splits)
    change = abs(float((predictions["PublicTest"] == validation.labels).mean()) - accuracy32)
    storage = "float16" if change <= 0.001 else "float32"
    log(f"{architecture}: float16 weights change PublicTest accuracy by {change:.4f}; storing {storage}")
    if storage == "float32":
        classifier.network_.set_weights(weights32)
        predictions = _predicted_labels(classifier, data, splits)
    metrics = {name: emotion_metrics(data[name].labels, predictions[name]) for name in splits}

    history = classifier.history_
    command = (f"fer-classic train --method cnn/{architecture} --epochs {epochs} --optimizer {optimizer} "
               f"--learning-rate {learning_rate:g} --seed {seed} --tta {tta}")
    if time_budget:
        command += f" --time-budget {time_budget:g}"
    entry = {
        "kind": "cnn",
        "method": f"cnn/{architecture}",
        "architecture": architecture,
        "classifier": f"{architecture} CNN (Keras {keras.__version__}), trained from scratch",
        "parameters": {"epochs": epochs, "time_budget_seconds": time_budget, "batch_size": batch_size,
                       "learning_rate": learning_rate, "patience": patience, "seed": seed, "tta": tta,
                       "optimizer": {"adam": "Adam", "sgd": "SGD, Nesterov momentum 0.9"}[optimizer]
                       + ", cosine schedule",
                       "augmentation": "mirror, shift 10%, rotation 10 deg, zoom 10%, random erasing p=0.5",
                       "class_weights": "sqrt(balanced)"},
        "training": {"epochs_run": history["epochs_run"], "best_epoch": history["best_epoch"],
                     "stopped_by": history["stopped"], "history": history["epochs"]},
        "timings_seconds": {"total": history["seconds"]},
        "device": _device(),
        "backend": keras.backend.backend(),
        "storage_dtype": storage,
        "float16_accuracy_change": {"PublicTest": change},
        "metrics": metrics,
        "retrain": command,
        "note": training_note(history["stopped"], history["epochs_run"], time_budget, _device()),
        "data": {"file": str(data.source.name), "md5": data.md5, "train": "Training", "validation": "PublicTest"},
    }
    return classifier, entry
