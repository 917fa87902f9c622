"""Training protocol: fit on Training, choose hyper-parameters on PublicTest, report PrivateTest.

Feature extraction and scaling/PCA are fitted once; only the classifier is
refitted per grid point, in parallel. The chosen model's large weights are
rounded to float16, the precision they are stored in, before it is scored,
so the metrics are those of the stored model. PrivateTest is scored once, at
the end.
"""

from __future__ import annotations

import inspect
import time

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline

from ..extract import with_horizontal_flips
from ..extract.landmarks import find_landmark_model, landmark_model_digest
from ..faces import average_views, mirror_views
from ..store.half_precision import round_to_float16
from ..workers import DEFAULT_JOBS
from .methods import CLASSIFIERS, build_method, default_landmark_model, limit_components, parse_method, recipe_digest
from .metrics import EVALUATION_SPLITS, emotion_metrics, probabilities_by_split
from .memory import PeakMemory


def groups_fit_params(estimator, groups):
    """The fit parameters that hand ``groups`` to ``estimator`` (or to a pipeline's last step), if it takes them."""
    if isinstance(estimator, Pipeline):
        name, last = estimator.steps[-1]
        return {f"{name}__{key}": value for key, value in groups_fit_params(last, groups).items()}
    return {"groups": groups} if "groups" in inspect.signature(estimator.fit).parameters else {}


def fit_and_score(classifier, params, train_features, train_labels, val_features, val_labels, groups=None):
    """Fit one grid point; score it on the validation faces, averaging over their views.

    ``val_features`` holds the features of every view of the validation faces, view after view
    (:func:`~fer_classic.faces.mirror_views`): ``len(val_features) // len(val_labels)`` views.

    ``groups`` (n,) marks rows that must stay on one side of a held-out split, such as a face and its
    mirror image; classifiers that hold rows out for calibration receive it. Without ``val_features``
    the grid point is fitted, not scored: its accuracy is None.
    """
    started = time.perf_counter()
    classifier = clone(classifier).set_params(**params)
    fit_params = {} if groups is None else groups_fit_params(classifier, groups)
    fitted = classifier.fit(train_features, train_labels, **fit_params)
    fit_seconds = time.perf_counter() - started
    if val_features is None:
        return fitted, None, fit_seconds
    probabilities = average_views(fitted.predict_proba(val_features), len(val_features) // len(val_labels))
    accuracy = float((fitted.classes_[probabilities.argmax(axis=1)] == val_labels).mean())
    return fitted, accuracy, fit_seconds


def fit_features(union, faces, labels, log):
    """Fit phase 2 feature by feature and step by step, logging each step's output size and time.

    Parameters
    ----------
    union : sklearn.pipeline.FeatureUnion
        One ``extract``, ``map``, ``reduce`` pipeline per feature; fitted in place. Its
        ``transformer_weights`` multiply the blocks, as its ``transform`` does.
    faces : ndarray of uint8, shape (n, s, s)
    labels : ndarray, shape (n,)
    log : callable

    Returns
    -------
    features : ndarray of float32, shape (n, total dimensions)
        The training faces' features, as ``union.transform(faces)`` would give them.
    steps : list of dict
        Per step: ``feature``, ``step``, ``seconds`` and ``output_columns``.
    """
    blocks, steps = [], []
    weights = union.transformer_weights or {}
    for name, block in union.transformer_list:
        X = faces
        for step_name, step in block.steps:
            if step == "passthrough":
                continue
            started = time.perf_counter()
            X = step.fit_transform(X, labels)
            steps.append({"feature": name, "step": step_name, "seconds": round(time.perf_counter() - started, 1),
                          "output_columns": int(X.shape[1])})
            log(f"  {name}: {step_name} ({type(step).__name__}) -> {X.shape[1]} dimensions, {steps[-1]['seconds']} s")
        blocks.append(np.asarray(X, dtype=np.float32) * np.float32(weights.get(name, 1)))
    return np.hstack(blocks), steps


def _drop_training_state(classifier):
    """Free what only continued training needs (an MLP's Adam moments and early-stopping copy, 3x its weights) and
    what scoring cached (a member's ``caches``, such as local learning's unit rows, which rounding to float16
    would otherwise change from what the stored model rebuilds)."""
    # A pipeline's steps, a vote's fitted members, or itself.
    members = ([step for _, step in classifier.steps] if isinstance(classifier, Pipeline)
               else getattr(classifier, "estimators_", [classifier]))
    for member in members:
        attributes = ("_optimizer", "_best_coefs", "_best_intercepts") if isinstance(member, MLPClassifier) else ()
        for attribute in (*attributes, *getattr(member, "caches", ())):
            vars(member).pop(attribute, None)


def _fit_and_choose(method, model, spec, faces, labels, validation, groups, mirror_test, n_jobs, log):
    """Fit phase 2, then the classifier at each grid point; keep the one best on PublicTest.

    Returns the fitted model (mirror-averaged if ``mirror_test``), the chosen grid point and the timings.
    """
    started = time.perf_counter()
    log(f"{method}: features of {len(faces)} training faces (cached on disk after the first run)")
    features, _ = fit_features(model.named_steps["features"], faces, labels, log)
    grid = spec.grid_points()
    val_features = None
    if len(grid) > 1:          # one grid point chooses nothing: PublicTest is scored once, with the other splits
        log(f"{method}: features of {len(validation.faces)} PublicTest faces"
            f"{' and their mirrors' if mirror_test else ''}")
        val_features = model[:-1].transform(mirror_views(validation.faces) if mirror_test else validation.faces)
    prepared = time.perf_counter()

    log(f"{method}: fitting {type(model[-1]).__name__} on {features.shape[1]} dimensions, "
        f"{len(grid)} grid point(s){' scored on PublicTest' if len(grid) > 1 else ''}")
    results = []
    for point, result in enumerate(Parallel(n_jobs=min(n_jobs, len(grid)), return_as="generator")(
            delayed(fit_and_score)(model[-1], params, features, labels, val_features, validation.labels, groups)
            for params in grid)):
        results.append(result)
        scored = "" if result[1] is None else f"PublicTest accuracy {result[1]:.4f}, "
        log(f"  grid point {point + 1}/{len(grid)} {grid[point] or 'defaults'}: {scored}fit {result[2]:.1f} s")
    scores = [score for _, score, _ in results]
    best = max(range(len(grid)), key=scores.__getitem__)
    model.steps[-1] = ("classify", results[best][0])
    _drop_training_state(model[-1])
    if spec.finish is not None:
        spec.finish(model)
    round_to_float16(model)
    if mirror_test:
        model = spec.wrapper.from_fitted(model)
    finished = time.perf_counter()
    timings = {"features": round(prepared - started, 2), "classifier_search": round(finished - prepared, 2),
               "chosen_classifier_fit": round(results[best][2], 2), "total": round(finished - started, 2)}
    return model, grid[best], timings


def train_method(method, data, flip=True, mirror_test=True, n_jobs=DEFAULT_JOBS, landmark_model=None, log=print,
                 splits=EVALUATION_SPLITS):
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
    splits : sequence of str
        The splits scored once the model is chosen, those of ``data`` among them; () scores none (a timing
        of the training alone).

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

    # A face and its mirror image are one group: a held-out slice takes both or neither.
    groups = np.tile(np.arange(len(train.labels)), 2) if flip else None
    with PeakMemory() as peak:
        model, chosen, timings = _fit_and_choose(method, model, spec, faces, labels, validation, groups, mirror_test,
                                                 n_jobs, log)

    splits = [split for split in splits if split in data.splits]
    if splits:
        log(f"{method}: scoring {', '.join(splits)}")
    # FER+ reuses PrivateTest's predictions: the same faces.
    probabilities = probabilities_by_split(model.predict_proba, data, splits, len(model.classes_))
    metrics = {}
    for split in splits:
        metrics[split] = emotion_metrics(data[split].labels, model.classes_[probabilities[split].argmax(axis=1)])
        log(f"{method}: {split} accuracy {metrics[split]['accuracy']:.4f}, macro-F1 {metrics[split]['macro_f1']:.4f}")
    entry = {
        "kind": "classical",
        "method": method,
        "classifier": spec.description,
        "recipe_digest": recipe_digest(method, landmark_model),
        "storage_dtype": "float16",
        "parameters": {"chosen": chosen, "grid": spec.grid, "flip_augmentation": flip,
                       "test_time_mirroring": mirror_test, "model": repr(model)},
        "data": {"file": str(data.source.name), "md5": data.md5, "train": "Training", "validation": "PublicTest",
                 "n_training_faces": int(len(faces)), "notes": data.notes},
        # Every classical feature reads the landmarks (the geometry, or the alignment): a model expects its own.
        "landmark_model": {"name": landmark_model, "file": find_landmark_model(landmark_model).name,
                           "digest": landmark_model_digest(landmark_model)},
        "metrics": metrics,
        "timings_seconds": timings,
        "peak_memory_mb": peak.mb,
    }
    return model, entry
