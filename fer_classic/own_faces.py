"""Train on your own labelled faces, score it honestly, and save it as a model every front end can use.

The three phases composed for training, as :mod:`fer_classic.pipeline`
composes them for prediction: phase 1 cuts the largest face out of each
labelled photo (:mod:`fer_classic.labelled`), phases 2 and 3 are a
:class:`~fer_classic.classify.small_sets.FaceClassifier`, scored by
cross-validation grouped by person, then fitted on every face and saved
with its class names::

    >>> from fer_classic import FaceClassifier
    >>> classifier = FaceClassifier().fit(faces, labels)      # doctest: +SKIP

The command line (``fer-classic train --data DIR``) and the desktop app's
teach mode are thin shells over :func:`train_own_model` and
:func:`evaluate_on_labelled`.
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import numpy as np

from .classify.small_sets import (DEFAULT_FOLDS, DEFAULT_METHOD, HANDCRAFTED_METHOD, FaceClassifier, FeatureBank,
                                  check_folds, cross_validate, parse_small_set_method)
from .labelled import LabelledDataError, find_labelled_images, groups_from_names, match_classes, read_faces

__all__ = ["FaceClassifier", "cross_validate", "default_method", "evaluate_on_labelled", "load_labelled_faces",
           "save_own_model", "train_own_model"]


def cnn_features_available():
    """Whether the ``cnn-*`` features can run here: TensorFlow (the CNN extra) is installed. Registers them if so."""
    if importlib.util.find_spec("tensorflow") is None:
        return False
    from .cnn import embeddings  # noqa: F401  registers cnn-fer with phase 3

    return True


cnn_features_available()    # so that FaceClassifier's default can use fer-cnn's embeddings when TensorFlow is here


def default_method():
    """The default method for your own faces, and a note when it had to fall back.

    Returns
    -------
    method : str
        :data:`~fer_classic.classify.small_sets.DEFAULT_METHOD`, or without
        the CNN extra :data:`~fer_classic.classify.small_sets.HANDCRAFTED_METHOD`.
    note : str or None
    """
    if cnn_features_available():
        return DEFAULT_METHOD, None
    return HANDCRAFTED_METHOD, (f"the CNN extra is not installed, so the default is {HANDCRAFTED_METHOD} instead of "
                                f"{DEFAULT_METHOD} (pip install 'fer-classic[cnn]')")


def check_method(method):
    """``method`` validated for your own faces (registering the cnn-* features first if it names one)."""
    if any(feature.startswith("cnn-") for feature in method.split("/")[0].split("+")):
        cnn_features_available()
    parse_small_set_method(method)
    return method


def load_labelled_faces(source, detector, groups=None, progress=None):
    """Read a labelled folder or CSV into 48x48 faces, with the persons from ``groups`` if given.

    Parameters
    ----------
    source : str or Path
        See :func:`fer_classic.labelled.find_labelled_images`.
    detector : object with ``detect(gray)``
    groups : str, optional
        A regular expression whose first capture group, searched in each file
        name, is the person (:func:`fer_classic.labelled.groups_from_names`).
        Checked on every file before any is read.
    progress : callable, optional
        Wraps the iterable of files.

    Returns
    -------
    fer_classic.labelled.LabelledFaces
    """
    images = find_labelled_images(source)
    if groups is not None:
        images.groups = groups_from_names(images.paths, groups)
    faces = read_faces(images, detector, progress)
    if not len(faces):
        raise LabelledDataError(f"{source}: no face found in any of its {len(images.paths)} images; images that "
                                "are face crops already need the whole-image detector")
    return faces


def train_own_model(data, method=None, folds=DEFAULT_FOLDS, n_jobs=1, progress=None, log=None):
    """Cross-validate a :class:`FaceClassifier` on labelled faces, then fit it on all of them.

    Parameters
    ----------
    data : fer_classic.labelled.LabelledFaces
    method : str, optional
        Default: :func:`default_method`.
    folds : int or None
        Folds of the cross-validation, grouped by ``data.groups`` when known;
        None or 0 skips it.
    n_jobs : int
    progress : callable, optional
        ``progress(iterable, desc)`` wraps the folds.
    log : callable, optional
        Receives one line at a time.

    Returns
    -------
    classifier : FaceClassifier
        Fitted on every face.
    report : dict
        ``classes``, ``n_faces``, ``method``, ``cv`` (see
        :func:`~fer_classic.classify.small_sets.cross_validate`, or None),
        ``chosen`` (the final model's hyper-parameters) and ``seconds``.
    """
    started = time.perf_counter()
    log = log or (lambda line: None)
    note = None
    if method is None:
        method, note = default_method()
    check_method(method)
    if note:
        log(note)
    if folds:
        check_folds(data.labels, folds, data.groups)
    classifier = FaceClassifier(method=method, n_jobs=n_jobs)
    log(f"{method}: features of {len(data)} faces")
    bank = FeatureBank(parse_small_set_method(method)[0], data.faces, classifier.mirror, None, n_jobs)
    report = {"classes": [str(name) for name in np.unique(data.labels)], "n_faces": len(data), "method": method,
              "cv": None}
    if folds:
        how = "grouped by person" if data.groups is not None else "faces of one person may fall in several folds"
        log(f"{method}: {folds}-fold cross-validation ({how})")
        wrap = (lambda folds_: progress(folds_, "folds")) if progress else None
        report["cv"] = cross_validate(classifier, data.faces, data.labels, data.groups, folds, wrap, bank)
    log(f"{method}: fitting the final model on all {len(data)} faces")
    classifier.fit_bank(bank, data.labels, data.groups)
    report["chosen"] = classifier.chosen_
    report["seconds"] = round(time.perf_counter() - started, 2)
    return classifier, report


def save_own_model(classifier, path, report, data=None):
    """Save a fitted :class:`FaceClassifier`, its manifest entry, its JSON report and its confusion-matrix PNG.

    The model is trusted for this user and loads by its name (the file's
    stem) in every front end.

    Parameters
    ----------
    classifier : FaceClassifier
    path : str or Path
        The ``.joblib`` file to write.
    report : dict
        From :func:`train_own_model`.
    data : fer_classic.labelled.LabelledFaces, optional
        Recorded in the entry: source, faces, persons, skipped files.

    Returns
    -------
    entry : fer_classic.store.manifest.ModelEntry
    outputs : dict
        ``report`` (the JSON file) and ``confusion`` (the PNG, or None
        without matplotlib).
    """
    from .atomic import write_text
    from .extract.landmarks import find_landmark_model, landmark_model_digest
    from .store import save_model

    path = Path(path)
    cv = report.get("cv")
    landmark = classifier.landmark_model_
    entry = {
        "kind": "classical",
        "method": classifier.method_,
        "classifier": parse_small_set_method(classifier.method_)[3],
        "classes": [str(name) for name in classifier.classes_],
        "storage_dtype": "float32",
        "parameters": {"chosen": classifier.chosen_, "inner_folds": classifier.inner_folds,
                       "mirror": classifier.mirror},
        "data": {"source": str(data.source) if data is not None else None,
                 "n_faces": report["n_faces"],
                 "n_persons": int(len(np.unique(data.groups))) if data is not None and data.groups is not None
                 else None,
                 "skipped": len(data.skipped) if data is not None else 0},
        "metrics": {"cross-validation": {key: cv[key] for key in ("folds", "grouped", "accuracy", "accuracy_sd",
                                                                  "macro_f1", "per_class_recall", "confusion")}}
        if cv else {},
        "timings_seconds": {"total": report["seconds"]},
        "landmark_model": {"name": landmark, "file": find_landmark_model(landmark).name,
                           "digest": landmark_model_digest(landmark)} if landmark else None,
    }
    saved = save_model(classifier, path, {k: v for k, v in entry.items() if v is not None})
    report_path = path.with_suffix(".report.json")
    write_text(report_path, json.dumps({**report, "model": str(path)}, indent=2) + "\n")
    confusion = plot_confusion(report, path.with_suffix(".confusion.png")) if cv else None
    return saved, {"report": report_path, "confusion": confusion}


def plot_confusion(report, path):
    """The cross-validated confusion matrix as a PNG, rows normalised to recall; None without matplotlib.

    Parameters
    ----------
    report : dict
        With ``cv`` (``confusion``, ``classes``, ``accuracy``...) and ``method``.
    path : str or Path

    Returns
    -------
    Path or None
    """
    if importlib.util.find_spec("matplotlib") is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from .atomic import save_figure

    cv = report["cv"]
    classes, counts = cv["classes"], np.asarray(cv["confusion"], dtype=float)
    recall = counts / counts.sum(axis=1, keepdims=True).clip(min=1)
    side = 2.4 + 0.55 * len(classes)
    figure = Figure(figsize=(side + 1.2, side))
    axis = figure.add_subplot()
    image = axis.imshow(recall, cmap="Blues", vmin=0, vmax=1)
    for (i, j), value in np.ndenumerate(counts):
        axis.text(j, i, f"{int(value)}\n{recall[i, j]:.0%}", ha="center", va="center", fontsize=8,
                  color="white" if recall[i, j] > 0.6 else "black")
    axis.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    axis.set_yticks(range(len(classes)), classes)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    grouped = "by person" if cv["grouped"] else "not grouped by person"
    axis.set_title(f"{report['method']}\n{cv['folds']}-fold CV ({grouped}): accuracy {cv['accuracy']:.3f} "
                   f"± {cv['accuracy_sd']:.3f}, macro-F1 {cv['macro_f1']:.3f}", fontsize=9)
    figure.colorbar(image, ax=axis, label="recall (row share)")
    figure.tight_layout()
    save_figure(figure, path, dpi=120)
    return Path(path)


def evaluate_on_labelled(recognizer, data):
    """Score a model on labelled faces whose classes are matched to the model's by name and synonym.

    Parameters
    ----------
    recognizer : fer_classic.EmotionRecognizer
    data : fer_classic.labelled.LabelledFaces

    Returns
    -------
    dict
        :func:`~fer_classic.classify.metrics.emotion_metrics` over the
        model's classes for the faces of matched classes (``n_faces``
        scored), plus ``matched`` ({data class: model class}) and
        ``left_out`` ({data class: faces}) for classes the model lacks.

    Raises
    ------
    LabelledDataError
        When no class of the data is one of the model's.
    """
    classes = recognizer.classes
    matched = match_classes(np.unique(data.labels).tolist(), classes)
    names, counts = np.unique(data.labels, return_counts=True)
    left_out = {str(name): int(count) for name, count in zip(names, counts) if name not in matched}
    if not matched:
        raise LabelledDataError(f"{data.source}: none of its classes ({', '.join(map(str, names))}) is one of the "
                                f"model's ({', '.join(classes)}), even through synonyms")
    keep = np.isin(data.labels, list(matched))
    truth = np.array([matched[label] for label in data.labels[keep]], dtype=np.int64)
    metrics = recognizer.evaluate(data.faces[keep], truth)
    return {**metrics, "n_faces": int(keep.sum()),
            "matched": {name: classes[index] for name, index in matched.items()}, "left_out": left_out,
            "skipped": data.skipped}
