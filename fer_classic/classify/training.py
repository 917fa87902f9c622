"""Training protocol: fit on Training, choose hyper-parameters on PublicTest, report PrivateTest.

Feature extraction and scaling/PCA are fitted once; only the classifier is
refitted per grid point, in parallel. The chosen model's large weights are
rounded to float16, the precision they are stored in, before it is scored,
so the metrics are those of the stored model. PrivateTest is scored once, at
the end.
"""

from __future__ import annotations

import time

from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.neural_network import MLPClassifier

import numpy as np

from ..data import mirror_faces
from ..extract import with_horizontal_flips
from ..extract.landmarks import find_landmark_model, landmark_model_digest
from ..half_precision import round_to_float16
from .methods import (CLASSIFIERS, build_method, default_landmark_model, limit_components, parse_method,
                      recipe_digest)
from .metrics import EVALUATION_SPLITS, emotion_metrics
from .mirror import MirrorAveragedClassifier


def fit_and_score(classifier, params, train_features, train_labels, val_views, val_labels):
    """Fit one grid point; score it on the validation faces, averaging over their views."""
    started = time.perf_counter()
    fitted = clone(classifier).set_params(**params).fit(train_features, train_labels)
    fit_seconds = time.perf_counter() - started
    probabilities = np.mean([fitted.predict_proba(view) for view in val_views], axis=0)
    accuracy = float((fitted.classes_[probabilities.argmax(axis=1)] == val_labels).mean())
    return fitted, accuracy, fit_seconds


def _drop_training_state(classifier):
    """Free what only continued training needs: an MLP's Adam moments and early-stopping copy, 3x its weights."""
    for member in getattr(classifier, "estimators_", [classifier]):  # a vote's fitted members, or itself
        if isinstance(member, MLPClassifier):
            for attribute in ("_optimizer", "_best_coefs", "_best_intercepts"):
                vars(member).pop(attribute, None)


def train_method(method, data, flip=True, mirror_test=True, n_jobs=2, landmark_model=None, log=print):
    """Train and evaluate one named method.

    Parameters
    ----------
    method : str
        A name from :func:`fer_classic.classify.methods.method_names`.
    data : fer_classic.data.FER2013
        With at least the Training and PublicTest splits.
    flip : bool
        Add mirrored copies of the training faces.
    mirror_test : bool
        Predict by averaging each face and its mirror image
        (:class:`~fer_classic.classify.mirror.MirrorAveragedClassifier`).
    n_jobs : int
        Worker processes for extraction and for the grid search.
    landmark_model : {"distilled", "dlib"}, optional
        Default: :func:`~fer_classic.classify.methods.default_landmark_model`.
    log : callable
        Receives one line of progress at a time.

    Returns
    -------
    model : Pipeline or MirrorAveragedClassifier
        Fitted, with the hyper-parameters that scored best on PublicTest.
    entry : dict
        Manifest fields: method, parameters, metrics per split, timings.
    """
    feature_names, classifier = parse_method(method)
    landmark_model = landmark_model or default_landmark_model(feature_names)
    train = data["Training"]
    faces, labels = with_horizontal_flips(train.faces, train.labels) if flip else (train.faces, train.labels)
    validation = data["PublicTest"]
    model = build_method(method, n_jobs=n_jobs, landmark_model=landmark_model)
    limit_components(model, len(faces))
    spec = CLASSIFIERS[classifier]

    started = time.perf_counter()
    log(f"{method}: extracting features of {len(faces)} training faces")
    features = model[:-1].fit_transform(faces, labels)
    views = [validation.faces, mirror_faces(validation.faces)] if mirror_test else [validation.faces]
    val_views = [model[:-1].transform(view) for view in views]
    prepared = time.perf_counter()

    grid = spec.grid_points()
    log(f"{method}: fitting {type(model[-1]).__name__} on {features.shape[1]} dimensions, "
        f"{len(grid)} grid point(s) scored on PublicTest")
    results = Parallel(n_jobs=min(n_jobs, len(grid)))(
        delayed(fit_and_score)(model[-1], params, features, labels, val_views, validation.labels)
        for params in grid)
    scores = [score for _, score, _ in results]
    best = max(range(len(grid)), key=scores.__getitem__)
    model.steps[-1] = ("classify", results[best][0])
    _drop_training_state(model[-1])
    round_to_float16(model)
    if mirror_test:
        model = MirrorAveragedClassifier.from_fitted(model)
    finished = time.perf_counter()
    for params, score in zip(grid, scores):
        log(f"  {params or 'defaults'}: PublicTest accuracy {score:.4f}")

    metrics = {}
    for split in EVALUATION_SPLITS:
        if split in data.splits:
            part = data[split]
            metrics[split] = emotion_metrics(part.labels, model.predict(part.faces))
            log(f"{method}: {split} accuracy {metrics[split]['accuracy']:.4f}, "
                f"macro-F1 {metrics[split]['macro_f1']:.4f}")
    entry = {
        "kind": "classical",
        "method": method,
        "classifier": spec.description,
        "recipe_digest": recipe_digest(method, landmark_model),
        "storage_dtype": "float16",
        "parameters": {"chosen": grid[best], "grid": spec.grid, "flip_augmentation": flip,
                       "test_time_mirroring": mirror_test, "model": repr(model)},
        "data": {"file": str(data.source.name), "md5": data.md5, "train": "Training", "validation": "PublicTest",
                 "n_training_faces": int(len(faces)), "notes": data.notes},
        # Every classical feature reads the landmarks (the geometry, or the alignment): a model expects its own.
        "landmark_model": {"name": landmark_model, "file": find_landmark_model(landmark_model).name,
                           "digest": landmark_model_digest(landmark_model)},
        "metrics": metrics,
        "timings_seconds": {"features": round(prepared - started, 2),
                            "classifier_search": round(finished - prepared, 2),
                            "chosen_classifier_fit": round(results[best][2], 2), "total": round(finished - started, 2)},
    }
    return model, entry
