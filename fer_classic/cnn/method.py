"""The deep branch's protocol: train on Training, stop on PublicTest, report every split, decide to ship.

A network is worth shipping only if it learned: :func:`shipping_verdict`
asks for a PublicTest accuracy of at least :data:`SHIP_MIN_ACCURACY` and for
no class taking more than :data:`SHIP_MAX_CLASS_SHARE` of its predictions
(an untrained network predicts one class for every face).
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from ..classify.metrics import EVALUATION_SPLITS, emotion_metrics, probabilities_by_split
from ..data import EMOTIONS
from .classifier import CNNClassifier
from .recipes import recipe_for

SHIP_MIN_ACCURACY = 0.55
SHIP_MAX_CLASS_SHARE = 0.5


def training_device():
    """What Keras trains on, in words: backend and device kind."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return f"jax on {jax.devices()[0].device_kind}"
    if backend == "tensorflow":
        import tensorflow as tf

        return f"tensorflow on {'GPU' if tf.config.list_physical_devices('GPU') else 'CPU'}"
    return backend


def class_shares(predicted_labels):
    """Fraction of the predictions that go to each emotion, shape (7,)."""
    counts = np.bincount(np.asarray(predicted_labels), minlength=len(EMOTIONS))
    return counts / max(counts.sum(), 1)


def shipping_verdict(metrics):
    """Whether a network's metrics allow shipping it, and why not.

    Parameters
    ----------
    metrics : dict
        ``{split: emotion_metrics(...)}``, with PublicTest.

    Returns
    -------
    ok : bool
    reason : str
    """
    public = metrics["PublicTest"]
    shares = np.asarray(public["confusion"]).sum(axis=0) / max(public["n"], 1)
    largest = int(shares.argmax())
    if public["accuracy"] < SHIP_MIN_ACCURACY:
        return False, f"PublicTest accuracy {public['accuracy']:.4f} < {SHIP_MIN_ACCURACY}"
    if shares[largest] > SHIP_MAX_CLASS_SHARE:
        return False, f"'{EMOTIONS[largest]}' takes {shares[largest]:.0%} of its PublicTest predictions"
    return True, f"PublicTest accuracy {public['accuracy']:.4f}, largest class share {shares[largest]:.0%}"


def _predicted_labels(classifier, data, splits):
    return {name: p.argmax(axis=1) for name, p in probabilities_by_split(classifier.predict_proba, data,
                                                                        splits).items()}


def retrain_command(architecture, recipe, seed, tta, warm_start=None):
    """The command line that trains this network again with the same recipe (and starting weights)."""
    default = recipe_for(architecture)
    changed = [f"--{name.replace('_', '-')}" if value is True else
               f"--{name.replace('_', '-')} {value:g}" if isinstance(value, float) else
               f"--{name.replace('_', '-')} {value}"
               for name, value in recipe.as_dict().items() if value != getattr(default, name)]
    if warm_start is not None:
        changed.append(f"--warm-start {warm_start}")
    return " ".join([f"fer-classic train --method cnn/{architecture}", *changed, f"--seed {seed}", f"--tta {tta}"])


def train_cnn_method(architecture, data, recipe=None, seed=0, tta="flip", checkpoint_dir=None, resume=False,
                     warm_start=None, warm_start_entry=None, progress=True, log=print):
    """Train one network by its recipe and describe it for the manifest.

    The weights are then rounded to float16; the float16 network is kept
    when its PublicTest accuracy is within 0.1 points of float32's, and its
    metrics are the ones reported.

    Parameters
    ----------
    architecture : str
    data : fer_classic.data.FER2013
    recipe : Recipe, optional
        Default: the architecture's (:func:`~fer_classic.cnn.recipes.recipe_for`).
    seed : int
    tta : {"none", "flip", "ten-crop"}
        Test-time augmentation used for the reported metrics (and kept).
    checkpoint_dir, resume, warm_start, progress, log
        As :func:`~fer_classic.cnn.training.fit_network`.
    warm_start_entry : dict, optional
        The manifest entry of the ``warm_start`` file, when it is known: its
        training then counts in this network's epochs and time.

    Returns
    -------
    classifier : CNNClassifier
    entry : dict
        Manifest fields, with ``storage_dtype`` telling how to save it and
        ``shipping`` the :func:`shipping_verdict`.
    """
    recipe = recipe or recipe_for(architecture)
    train, validation = data["Training"], data["PublicTest"]
    classifier = CNNClassifier(architecture, recipe=recipe, tta=tta, seed=seed)
    classifier.fit(train.faces, train.labels, validation=(validation.faces, validation.labels),
                   checkpoint_dir=checkpoint_dir, resume=resume, warm_start=warm_start, progress=progress, log=log)

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
    ship, reason = shipping_verdict(metrics)
    log(f"{architecture}: {'worth shipping' if ship else 'not worth shipping'}: {reason}")

    history = classifier.history_
    device = training_device()
    training = {"epochs_run": history["epochs_run"], "best_epoch": history["best_epoch"],
                "stopped_by": history["stopped"], "history": history["epochs"]}
    timings = {"total": history["seconds"]}
    if warm_start is not None:
        training["warm_start"] = {**history.get("warm_start", {}), "file": Path(warm_start).name}
        if warm_start_entry:
            before = warm_start_entry.get("training", {})
            training["warm_start"].update(sha256=warm_start_entry.get("sha256"), epochs_run=before.get("epochs_run"),
                                          retrain=warm_start_entry.get("retrain"))
            timings = {"total": round(history["seconds"] + warm_start_entry["timings_seconds"]["total"], 1),
                       "this_run": history["seconds"]}
    entry = {
        "kind": "cnn",
        "method": f"cnn/{architecture}",
        "architecture": architecture,
        "classifier": f"{architecture}{'-BN' if recipe.batch_norm else ''} CNN (Keras {keras.__version__}), "
                      "trained from scratch",
        "parameters": {"recipe": recipe.as_dict(), "seed": seed, "tta": tta,
                       "augmentation": f"mirror, shift 10%, rotation 10 deg, zoom 10%, "
                                       f"random erasing p={recipe.erasing:g}",
                       "class_weights": "sqrt(balanced)"},
        "training": training,
        "timings_seconds": timings,
        "device": device,
        "storage_dtype": storage,
        "float16_accuracy_change": {"PublicTest": change},
        "metrics": metrics,
        "shipping": {"ok": ship, "reason": reason},
        "retrain": retrain_command(architecture, recipe, seed, tta,
                                   None if warm_start is None else Path(warm_start).name),
        "data": {"file": str(data.source.name), "md5": data.md5, "train": "Training", "validation": "PublicTest",
                 "n_training_faces": int(len(train)), "notes": data.notes},
    }
    return classifier, entry
