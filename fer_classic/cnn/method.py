"""The deep branch's protocol: train on Training, stop on PublicTest, report every split, decide to ship.

A network is worth shipping only if it learned: :func:`shipping_verdict`
asks for a PublicTest accuracy of at least :data:`SHIP_MIN_ACCURACY` and for
no class taking more than :data:`SHIP_MAX_CLASS_SHARE` of its predictions
(an untrained network predicts one class for every face).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..classify.metrics import EVALUATION_SPLITS, emotion_metrics, probabilities_by_split
from ..faces import EMOTIONS
from .classifier import CNNClassifier
from .recipes import recipe_for
from .storage import round_trip

SHIP_MIN_ACCURACY = 0.55
SHIP_MAX_CLASS_SHARE = 0.5
# Stored weights may move the validation accuracy by this much (about 4 of PublicTest's 3,589 faces)...
STORAGE_TOLERANCE = 0.001
# ... and must agree with float32's predictions on this share of its faces: a net change hides faces that flip.
STORAGE_MIN_AGREEMENT = 0.995


def training_device():
    """What Keras trains on, in words: backend and device kind."""
    import keras

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


def choose_storage(classifier, validation, log=print):
    """Give ``classifier`` the most compact stored weights that keep its validation accuracy.

    Tries int8 kernels, then float16 (:func:`~fer_classic.cnn.storage.round_trip`)
    against the network's current float32 weights, and keeps the first whose
    accuracy on ``validation`` moves by at most :data:`STORAGE_TOLERANCE` and
    whose predictions agree on at least :data:`STORAGE_MIN_AGREEMENT` of the
    faces; otherwise the float32 weights.

    Parameters
    ----------
    classifier : CNNClassifier
        Fitted; its network is left with the chosen weights.
    validation : fer_classic.data.Split
        Faces and labels to score on (PublicTest).

    Returns
    -------
    storage : {"int8", "float16", "float32"}
    changes : dict
        For each storage tried, ``{"accuracy": absolute change, "agreement": share of the same predictions}``.
    """
    weights32 = classifier.network_.get_weights()
    predicted32, changes = classifier.predict(validation.faces), {}
    for storage in ("int8", "float16"):
        classifier.network_.set_weights(round_trip(weights32, storage))
        predicted = classifier.predict(validation.faces)
        change = abs(float((predicted == validation.labels).mean() - (predicted32 == validation.labels).mean()))
        agreement = float((predicted == predicted32).mean())
        changes[storage] = {"accuracy": round(change, 6), "agreement": round(agreement, 6)}
        log(f"{classifier.architecture}: {storage} weights change validation accuracy by {change:.4f} and agree "
            f"with float32 on {agreement:.2%} of its faces")
        if change <= STORAGE_TOLERANCE and agreement >= STORAGE_MIN_AGREEMENT:
            return storage, changes
    classifier.network_.set_weights(weights32)
    return "float32", changes


def full_history(training):
    """A network's per-epoch history across its warm restarts, earlier runs first.

    Parameters
    ----------
    training : dict
        A manifest entry's ``"training"``: its ``history`` counts epochs and
        seconds from the start of the last run, and a warm restart keeps the
        run it started from in ``warm_start.history``.

    Returns
    -------
    list of dict
        The epochs of every run, numbered and timed from the first run's
        start; the first epoch of each restart has ``"restart": True``.
    """
    earlier = training.get("warm_start", {}).get("history", [])
    latest = [dict(h) for h in training.get("history", [])]
    if earlier and latest:
        for record in latest:
            record["epoch"] += earlier[-1]["epoch"]
            record["seconds"] = round(record["seconds"] + earlier[-1]["seconds"], 1)
        latest[0]["restart"] = True
    return [dict(h) for h in earlier] + latest


def score_splits(classifier, data):
    """:func:`~fer_classic.classify.metrics.emotion_metrics` of ``classifier`` on every evaluation split in ``data``."""
    splits = [name for name in EVALUATION_SPLITS if name in data.splits]
    probabilities = probabilities_by_split(classifier.predict_proba, data, splits)
    return {name: emotion_metrics(data[name].labels, probabilities[name].argmax(axis=1)) for name in splits}


def retrain_command(architecture, recipe, seed, tta, warm_start=None):
    """The command line that trains this network again with the same recipe (and starting weights)."""
    default = recipe_for(architecture)
    changed = [f"--{name.replace('_', '-')}" if value is True else
               f"--no-{name.replace('_', '-')}" if value is False else
               f"--{name.replace('_', '-')} {value:g}" if isinstance(value, float) else
               f"--{name.replace('_', '-')} {value}"
               for name, value in recipe.as_dict().items() if value != getattr(default, name)]
    if warm_start is not None:
        changed.append(f"--warm-start {warm_start}")
    return " ".join([f"fer-classic train --method cnn/{architecture}", *changed, f"--seed {seed}", f"--tta {tta}"])


def train_cnn_method(architecture, data, recipe=None, seed=0, tta="flip", checkpoint_dir=None, resume=False,
                     warm_start=None, warm_start_entry=None, progress=True, log=print):
    """Train one network by its recipe and describe it for the manifest.

    The weights are then stored as compactly as accuracy allows: int8
    kernels, else float16, else float32 (:mod:`~fer_classic.cnn.storage`),
    the first that keeps PublicTest accuracy and predictions
    (:func:`choose_storage`). The metrics reported are those of the stored
    weights.

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
    import keras

    recipe = recipe or recipe_for(architecture)
    train, validation = data["Training"], data["PublicTest"]
    classifier = CNNClassifier(architecture, recipe=recipe, tta=tta, seed=seed)
    classifier.fit(train.faces, train.labels, validation=(validation.faces, validation.labels),
                   checkpoint_dir=checkpoint_dir, resume=resume, warm_start=warm_start, progress=progress, log=log)

    storage, changes = choose_storage(classifier, validation, log=log)
    metrics = score_splits(classifier, data)
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
            before = warm_start_entry.training or {}
            # A chain of restarts counts the epochs of every earlier run.
            earlier_epochs = (before.get("warm_start", {}).get("epochs_run") or 0) + (before.get("epochs_run") or 0)
            training["warm_start"].update(sha256=warm_start_entry.sha256, epochs_run=earlier_epochs or None,
                                          retrain=warm_start_entry.retrain, history=full_history(before))
            timings = {"total": round(history["seconds"] + warm_start_entry.training_seconds, 1),
                       "this_run": history["seconds"]}
    entry = {
        "kind": "cnn",
        "method": f"cnn/{architecture}",
        "architecture": architecture,
        "classifier": f"{architecture}{'-BN' if recipe.batch_norm else ''}"
                      f"{f' (3x3 stem, stride {recipe.stem_stride})' if recipe.stem_stride else ''} "
                      f"CNN (Keras {keras.__version__}), "
                      "trained from scratch",
        "parameters": {"recipe": recipe.as_dict(), "seed": seed, "tta": tta,
                       "augmentation": f"mirror, shift 10%, rotation 10 deg, zoom 10%, "
                                       f"random erasing p={recipe.erasing:g}",
                       "class_weights": "sqrt(balanced)"},
        "training": training,
        "timings_seconds": timings,
        "device": device,
        "storage_dtype": storage,
        "storage_change": {"PublicTest": changes},
        "metrics": metrics,
        "shipping": {"ok": ship, "reason": reason},
        "retrain": retrain_command(architecture, recipe, seed, tta,
                                   None if warm_start is None else Path(warm_start).name),
        "data": {"file": str(data.source.name), "md5": data.md5, "train": "Training", "validation": "PublicTest",
                 "n_training_faces": int(len(train)), "notes": data.notes},
    }
    return classifier, entry
