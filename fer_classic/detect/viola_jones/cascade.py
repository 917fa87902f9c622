"""The attentional cascade: boosted stages that reject most non-faces after a few features.

A window must pass every stage to count as a face. Each stage is an AdaBoost
classifier whose threshold is lowered until it keeps ``min_detection_rate`` of
the faces (0.995, say); features are added to it until that threshold lets
through at most ``max_false_positive_rate`` of the non-faces (0.5, say). Ten
such stages keep about 0.995 ** 10 = 95% of faces and 0.5 ** 10 = 0.1% of
non-faces, and since most windows are rejected by the first stages, which use
only a handful of features, the average window costs a few features.

Each stage trains on the non-faces that the stages before it let through:
every window of every negative image, at every scale, is run through the
cascade so far, and the negatives of the next stage are sampled from the
survivors ("bootstrapping"). The later stages so learn the hard cases.

The stage threshold is set on faces held out from boosting, so the detection
rate it promises holds for faces the stage has not seen.

Before the first stage comes a contrast test: a window whose pixels' standard
deviation is below what ``min_detection_rate`` of the faces reach is
rejected. Every feature is divided by that standard deviation, so in a nearly
flat window (sky, a wall) the features measure noise, and such windows would
otherwise fool every stage; the test removes about 70% of the windows of
natural images for eight lookups each.

References
----------
.. [1] P. Viola and M. Jones, "Robust real-time face detection", IJCV 57(2),
       2004, section 4 and table 2.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ...atomic import replacing
from ...faces import mirror_faces
from ...paths import display_path
from ...reading import load_npz
from ..defaults import VIOLA_JONES_SCALE_FACTOR
from .adaboost import StrongClassifier, boost, sort_feature_values
from .haar import FEATURE_KINDS, HaarFeatures, haar_feature_values, haar_feature_values_at, haar_features
from .integral import integral_images, window_std
from .pyramid import image_pyramid, window_origins

FORMAT = "fer-classic-viola-jones-cascade/1"
_ARRAYS = ("window_shape", "min_std", "feature_kinds", "feature_boxes", "stump_thresholds", "stump_polarities",
           "stump_alphas", "stage_sizes", "stage_thresholds", "history")
MIN_STD = 1.0  # grey levels; flat windows would otherwise turn pixel noise into huge feature values


@dataclass(frozen=True)
class Stage:
    """One stage of the cascade: a boosted vote over its own features.

    Attributes
    ----------
    features : HaarFeatures
        One per stump, in the stumps' order.
    classifier : StrongClassifier
        Its stump ``i`` reads feature ``i``; its threshold is the stage threshold.
    """

    features: HaarFeatures
    classifier: StrongClassifier


@dataclass(frozen=True)
class Cascade:
    """A trained cascade.

    Attributes
    ----------
    window_shape : (int, int)
        ``(height, width)`` of the detection window.
    stages : list of Stage
    min_std : float
        The contrast test before the first stage: windows whose pixels'
        standard deviation is lower cannot be faces.
    history : dict
        What training measured (see :func:`train_cascade`).
    """

    window_shape: tuple
    stages: list
    min_std: float = 0.0
    history: dict = field(default_factory=dict)

    @property
    def n_features(self):
        """Features over all stages."""
        return sum(len(stage.features) for stage in self.stages)


def stacked_integrals(patches):
    """Integral images of a stack of windows, stacked vertically into one table.

    This lets :func:`pass_stages` treat training windows exactly as it treats
    windows of a large image.

    Parameters
    ----------
    patches : ndarray of uint8, shape (n, h, w)

    Returns
    -------
    integral, integral_sq : ndarray of int64, shape (n * (h + 1), w + 1)
        Of the pixels and of their squares.
    ys, xs : ndarray of int64, shape (n,)
        Each window's top-left corner in the tables.
    """
    patches = np.asarray(patches)
    if patches.ndim != 3:
        raise ValueError(f"patches must be (n, h, w), got shape {patches.shape}")
    n, h, w = patches.shape
    integral, integral_sq = (table.reshape(n * (h + 1), w + 1) for table in integral_images(patches))
    return integral, integral_sq, np.arange(n, dtype=np.int64) * (h + 1), np.zeros(n, dtype=np.int64)


def pass_stages(stages, window_shape, integral, integral_sq, ys, xs, min_std=0.0):
    """Run windows through stages in turn, each looking only at the survivors of the last.

    Parameters
    ----------
    stages : list of Stage
    window_shape : (int, int)
    integral, integral_sq : ndarray, shape (H + 1, W + 1)
        Integral images of the image's pixels and squared pixels.
    ys, xs : ndarray of int, shape (n,)
        Top-left corners of the windows.
    min_std : float
        Windows of lower contrast are rejected before the first stage.

    Returns
    -------
    passed : ndarray of int64, shape (m,)
        Indices of the windows that pass every stage.
    margins : ndarray of float64, shape (m,)
        Their last stage's vote minus its threshold (a confidence); zeros when
        ``stages`` is empty.
    """
    ys, xs = np.asarray(ys, dtype=np.int64), np.asarray(xs, dtype=np.int64)
    stds = np.maximum(window_std(integral, integral_sq, ys, xs, *window_shape), MIN_STD)
    passed = np.flatnonzero(stds >= min_std)
    margins = np.zeros(len(passed))
    for stage in stages:
        values = haar_feature_values_at(integral, ys[passed], xs[passed], stage.features) / stds[passed]
        margins = stage.classifier.decision_function(values) - stage.classifier.threshold
        keep = margins >= 0
        passed, margins = passed[keep], margins[keep]
    return passed, margins


def cascade_windows(cascade, integral, integral_sq, ys, xs):
    """:func:`pass_stages` with all of a cascade: its contrast test, then every stage."""
    return pass_stages(cascade.stages, cascade.window_shape, integral, integral_sq, ys, xs, cascade.min_std)


def normalised_feature_values(patches, features):
    """Feature values of windows divided by each window's standard deviation.

    Parameters
    ----------
    patches : ndarray of uint8, shape (n, h, w)
    features : HaarFeatures

    Returns
    -------
    ndarray of float32, shape (n_features, n)
    """
    integral, integral_sq, ys, xs = stacked_integrals(patches)
    n, h, w = patches.shape
    stds = np.maximum(window_std(integral, integral_sq, ys, xs, h, w), MIN_STD)
    values = haar_feature_values(integral.reshape(n, h + 1, w + 1), features)
    return (values / stds.astype(values.dtype)).astype(np.float32)


@dataclass(frozen=True)
class WindowPool:
    """Windows of the negative images that the cascade trained so far still calls faces.

    Attributes
    ----------
    levels : list of ndarray of uint8
        Pyramid levels of all negative images.
    level_of, ys, xs : ndarray of int32, shape (n,)
        Level and top-left corner of each surviving window, sorted by level.
    """

    levels: list
    level_of: np.ndarray
    ys: np.ndarray
    xs: np.ndarray

    def __len__(self):
        return len(self.ys)


def negative_window_pool(images, window_shape, scale_factor=VIOLA_JONES_SCALE_FACTOR, step=2):
    """Every window, at every scale, of images that hold no face.

    Parameters
    ----------
    images : list of ndarray of uint8, shape (h, w)
    window_shape : (int, int)
    scale_factor : float
    step : int
        As in the detector, so training sees the windows detection will see.

    Returns
    -------
    WindowPool
    """
    levels, level_of, ys, xs = [], [], [], []
    for image in images:
        for _, _, level in image_pyramid(image, window_shape, scale_factor):
            level_ys, level_xs = window_origins(level.shape, window_shape, step)
            level_of.append(np.full(len(level_ys), len(levels)))
            levels.append(level)
            ys.append(level_ys)
            xs.append(level_xs)
    if not levels:
        raise ValueError(f"no negative image is as large as the {window_shape} window")
    return WindowPool(levels, *(np.concatenate(v).astype(np.int32) for v in (level_of, ys, xs)))


def reject_negatives(pool, stages, window_shape, min_std=0.0, progress=False):
    """The windows of ``pool`` that pass ``stages`` (see :func:`pass_stages`)."""
    bounds = np.searchsorted(pool.level_of, np.arange(len(pool.levels) + 1))
    keep = []
    for index in tqdm(range(len(pool.levels)), desc="bootstrapping negatives", leave=False, disable=not progress):
        start, stop = bounds[index], bounds[index + 1]
        if start == stop:
            continue
        passed, _ = pass_stages(stages, window_shape, *integral_images(pool.levels[index]), pool.ys[start:stop],
                                pool.xs[start:stop], min_std)
        keep.append(start + passed)
    keep = np.concatenate(keep) if keep else np.zeros(0, dtype=np.int64)
    return WindowPool(pool.levels, pool.level_of[keep], pool.ys[keep], pool.xs[keep])


def sample_patches(pool, n, window_shape, rng):
    """``n`` windows drawn from the pool without replacement (all of them if fewer), as (n, h, w) uint8."""
    chosen = np.sort(rng.choice(len(pool), size=min(n, len(pool)), replace=False))
    height, width = window_shape
    return np.stack([pool.levels[level][y:y + height, x:x + width]
                     for level, y, x in zip(pool.level_of[chosen], pool.ys[chosen], pool.xs[chosen])])


def _threshold_for_detection_rate(scores, detection_rate):
    """Largest threshold that keeps at least ``detection_rate`` of ``scores`` (score >= threshold)."""
    return float(np.sort(scores)[int(np.floor((1 - detection_rate) * len(scores)))])


def train_stage(values, labels, validation_values, min_detection_rate=0.995, max_false_positive_rate=0.5,
                max_features=100, n_jobs=1, progress=False):
    """Boost one stage until it meets both rates, lowering its threshold after each round.

    Parameters
    ----------
    values : ndarray of float32, shape (n_features, n_samples)
        Normalised feature values of the training windows.
    labels : ndarray of bool, shape (n_samples,)
        True for faces.
    validation_values : ndarray of float32, shape (n_features, n_validation)
        Of held-out faces, on which the threshold is set.
    min_detection_rate, max_false_positive_rate : float
    max_features : int
        Stop adding stumps here even if the false-positive rate is not met.
    n_jobs : int
    progress : bool

    Returns
    -------
    classifier : StrongClassifier
        Stumps index rows of ``values``; the threshold is the stage threshold.
    record : dict
        ``training_errors`` (per round, of the stage at AdaBoost's own
        threshold), ``detection_rate`` (validation faces) and
        ``false_positive_rate`` (training non-faces) at the stage threshold.
    """
    labels = np.asarray(labels, dtype=bool)
    training_errors = []
    rounds = tqdm(boost(sort_feature_values(values, n_jobs), labels, n_jobs), total=max_features, desc="boosting",
                  leave=False, disable=not progress)
    for classifier, training_error in rounds:
        training_errors.append(training_error)
        validation_scores = classifier.decision_function(validation_values)
        threshold = _threshold_for_detection_rate(validation_scores, min_detection_rate)
        false_positive_rate = float(np.mean(classifier.decision_function(values)[~labels] >= threshold))
        if false_positive_rate <= max_false_positive_rate or len(training_errors) == max_features:
            break
    rounds.close()
    record = {"training_errors": training_errors, "detection_rate": float(np.mean(validation_scores >= threshold)),
              "false_positive_rate": false_positive_rate}
    return dataclasses.replace(classifier, threshold=threshold), record


def train_cascade(positives, negative_images, n_negatives=2000, features=None, validation_fraction=0.25,
                  mirror=True, min_detection_rate=0.995, max_false_positive_rate=0.5, max_stages=15,
                  max_stage_features=100, scale_factor=VIOLA_JONES_SCALE_FACTOR, step=2, n_jobs=1, seed=0, log=None,
                  progress=False):
    """Train an attentional cascade of boosted Haar-feature stages.

    Parameters
    ----------
    positives : ndarray of uint8, shape (n, h, w)
        Face windows; their shape is the detection window's.
    negative_images : list of ndarray of uint8, shape (h_i, w_i)
        Images without faces; every window of them is a candidate negative.
    n_negatives : int
        Negative windows per stage, sampled from those the cascade so far lets
        through.
    features : HaarFeatures, optional
        The pool AdaBoost chooses from; default :func:`.haar_features`.
    validation_fraction : float
        Share of ``positives`` held out to set the stage thresholds.
    mirror : bool
        Add the left-right mirror image of each training face.
    min_detection_rate, max_false_positive_rate : float
        Per-stage targets.
    max_stages, max_stage_features : int
        Size limits. Training also stops early when fewer than
        ``n_negatives // 4`` negative windows still pass the cascade.
    scale_factor, step : float, int
        The pyramid and window grid the negative windows are taken from.
    n_jobs : int
        Threads for sorting and for the stump search.
    seed : int
    log : callable, optional
        Called with one line of text per stage.
    progress : bool
        Show tqdm progress bars.

    Returns
    -------
    Cascade
        Its ``history`` holds the numbers of ``training_faces``,
        ``validation_faces``, ``features`` and ``negative_windows``; the
        ``contrast_test``'s ``min_std``, ``detection_rate`` and
        ``negatives_left``; and a list of ``stages``, each with
        ``n_features``, ``training_errors`` (per round), ``detection_rate``
        (held-out faces passing this stage), ``false_positive_rate`` (this
        stage's training negatives passing it), ``pool_false_positive_rate``
        (share of the ``negatives_reaching`` windows of the negative images
        that reached this stage and pass it), ``negatives_left``,
        ``cascade_detection_rate`` (held-out faces passing every stage so
        far), ``n_negatives`` and ``seconds``.
    """
    positives = np.asarray(positives)
    if positives.ndim != 3 or positives.dtype != np.uint8 or len(positives) < 2:
        raise ValueError(f"positives must be uint8 (n >= 2, h, w), got {positives.dtype} {positives.shape}")
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    if not (0 < min_detection_rate <= 1 and 0 < max_false_positive_rate < 1):
        raise ValueError("min_detection_rate must be in (0, 1] and max_false_positive_rate in (0, 1)")
    log = log or (lambda line: None)
    window_shape = positives.shape[1:]
    features = haar_features(window_shape) if features is None else features
    rng = np.random.default_rng(seed)

    shuffled = positives[rng.permutation(len(positives))]
    n_validation = max(1, int(round(validation_fraction * len(positives))))
    validation, training = shuffled[:n_validation], shuffled[n_validation:]
    if mirror:
        training = np.concatenate([training, mirror_faces(training)])
    positive_values = normalised_feature_values(training, features)
    validation_values = normalised_feature_values(validation, features)
    validation_windows = stacked_integrals(validation)
    pool = negative_window_pool(negative_images, window_shape, scale_factor, step)
    history = {"training_faces": len(training), "validation_faces": len(validation), "features": len(features),
               "negative_windows": len(pool), "stages": []}
    log(f"{len(training)} training faces, {len(validation)} validation faces, {len(features)} features, "
        f"{len(pool)} negative windows")

    # the contrast test is a stage of one "feature", the window's standard deviation
    validation_stds = window_std(*validation_windows, *window_shape)
    min_std = _threshold_for_detection_rate(validation_stds, min_detection_rate)
    pool = reject_negatives(pool, [], window_shape, min_std, progress)
    history["contrast_test"] = {"min_std": min_std, "detection_rate": float(np.mean(validation_stds >= min_std)),
                                "negatives_left": len(pool)}
    log(f"contrast test: standard deviation >= {min_std:.1f} keeps {history['contrast_test']['detection_rate']:.4f} "
        f"of held-out faces and {len(pool)} negative windows")

    stages = []
    for index in range(max_stages):
        if len(pool) < max(1, n_negatives // 4):
            log(f"only {len(pool)} negative windows pass the cascade: stopping")
            break
        started = time.perf_counter()
        negatives = sample_patches(pool, n_negatives, window_shape, rng)
        values = np.concatenate([positive_values, normalised_feature_values(negatives, features)], axis=1)
        labels = np.arange(values.shape[1]) < len(training)
        classifier, record = train_stage(values, labels, validation_values, min_detection_rate,
                                         max_false_positive_rate, max_stage_features, n_jobs, progress)
        stage = Stage(features[classifier.features],
                      dataclasses.replace(classifier, features=np.arange(len(classifier.features))))
        reaching = len(pool)
        pool = reject_negatives(pool, [stage], window_shape, progress=progress)
        stages.append(stage)
        passing_faces, _ = pass_stages(stages, window_shape, *validation_windows, min_std)
        record.update(stage=index, n_features=len(stage.features), n_negatives=len(negatives),
                      pool_false_positive_rate=len(pool) / reaching, negatives_reaching=reaching,
                      negatives_left=len(pool), cascade_detection_rate=len(passing_faces) / len(validation),
                      seconds=round(time.perf_counter() - started, 2))
        history["stages"].append(record)
        log(f"stage {index}: {record['n_features']} features, training error {record['training_errors'][-1]:.4f}, "
            f"detection rate {record['detection_rate']:.4f} (held-out faces), false-positive rate "
            f"{record['false_positive_rate']:.3f} (training negatives), {record['pool_false_positive_rate']:.3f} "
            f"(all {reaching} negative windows reaching it); cascade so far keeps "
            f"{record['cascade_detection_rate']:.4f} of held-out faces, {record['seconds']:.1f} s")
    return Cascade(tuple(int(v) for v in window_shape), stages, min_std, history)


def save_cascade(cascade, path):
    """Write a cascade as an ``.npz`` of plain arrays (no pickle).

    Parameters
    ----------
    cascade : Cascade
    path : str or Path

    Returns
    -------
    Path
    """
    if not cascade.stages:
        raise ValueError("cannot save a cascade without stages")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    classifiers = [stage.classifier for stage in cascade.stages]
    with replacing(path) as handle:
        np.savez_compressed(
            handle,
            format=np.array(FORMAT),
            window_shape=np.array(cascade.window_shape, dtype=np.int64),
            min_std=np.array(cascade.min_std, dtype=np.float64),
            feature_kinds=np.concatenate([stage.features.kinds for stage in cascade.stages]),
            feature_boxes=np.concatenate([stage.features.boxes for stage in cascade.stages]),
            stump_thresholds=np.concatenate([c.thresholds for c in classifiers]),
            stump_polarities=np.concatenate([c.polarities for c in classifiers]),
            stump_alphas=np.concatenate([c.alphas for c in classifiers]),
            stage_sizes=np.array([len(c.alphas) for c in classifiers], dtype=np.int64),
            stage_thresholds=np.array([c.threshold for c in classifiers], dtype=np.float64),
            history=np.array(json.dumps(cascade.history)),
        )
    return path


def load_cascade(path):
    """Read a cascade written by :func:`save_cascade`; never unpickles.

    Every array is checked before it is used (its type, shape and range:
    features inside the window, polarities of ±1, finite thresholds, the
    history a JSON object), so a damaged or foreign file fails here, in one
    line, and not in the middle of a detection.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Cascade

    Raises
    ------
    ValueError
        When the file is not such a cascade or is damaged; the message names the file.
    """
    path = Path(path)
    name = display_path(path)
    arrays = load_npz(path)     # a damaged archive: one ValueError naming the file
    if _text(arrays.get("format")) != FORMAT or set(_ARRAYS) - set(arrays):
        raise ValueError(f"{name}: not a {FORMAT} file with arrays {', '.join(_ARRAYS)}")
    try:
        window_shape, min_std, stages, history = _checked_cascade(arrays)
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        text = " ".join(str(error).split())
        raise ValueError(f"{name}: a damaged cascade ({text[:200]})") from None
    return Cascade(window_shape, stages, min_std, history)


def _text(array):
    """The one string ``array`` holds, or None."""
    if not isinstance(array, np.ndarray) or array.shape != () or array.dtype.kind != "U":
        return None
    return str(array.item())


def _checked_cascade(arrays):
    """The parts of a :class:`Cascade` from its file's arrays, each checked; ValueError says what is wrong."""
    def numbers(key, kind, shape):
        array = arrays[key]
        if array.dtype.kind not in kind or array.ndim != len(shape) or any(
                want is not None and have != want for have, want in zip(array.shape, shape)):
            raise ValueError(f"{key} should be {'integers' if kind == 'iu' else 'numbers'} of shape "
                             f"{tuple('n' if want is None else want for want in shape)}, not {array.dtype} "
                             f"{array.shape}")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError(f"{key} holds values that are not finite")
        return array

    window_shape = numbers("window_shape", "iu", (2,))
    if not ((window_shape >= 1) & (window_shape <= 4096)).all():
        raise ValueError(f"window_shape {window_shape.tolist()} out of range")
    min_std = float(numbers("min_std", "iuf", ()))
    if min_std < 0:
        raise ValueError(f"min_std {min_std} is negative")
    sizes = numbers("stage_sizes", "iu", (None,))
    if len(sizes) == 0 or (sizes < 1).any():
        raise ValueError("stage_sizes should be one positive count per stage")
    n_stumps = int(sizes.sum())
    kinds = arrays["feature_kinds"]
    if kinds.dtype.kind != "U" or kinds.shape != (n_stumps,):
        raise ValueError(f"feature_kinds should be {n_stumps} names, not {kinds.dtype} {kinds.shape}")
    boxes = numbers("feature_boxes", "iu", (n_stumps, 4)).astype(np.int64)
    thresholds = numbers("stump_thresholds", "iuf", (n_stumps,))
    polarities = numbers("stump_polarities", "iu", (n_stumps,))
    alphas = numbers("stump_alphas", "iuf", (n_stumps,))
    stage_thresholds = numbers("stage_thresholds", "iuf", (len(sizes),))
    if not np.isin(polarities, (-1, 1)).all():
        raise ValueError("stump_polarities should be -1 or 1")
    unknown = set(kinds.tolist()) - set(FEATURE_KINDS)
    if unknown:
        raise ValueError(f"unknown feature kinds {sorted(unknown)[:3]}")
    height, width = (int(v) for v in window_shape)
    x, y, w, h = boxes.T
    patterns = np.array([FEATURE_KINDS[kind].shape for kind in kinds.tolist()]).reshape(-1, 2)
    if ((x < 0) | (y < 0) | (w < 1) | (h < 1) | (x > width) | (y > height) | (w > width) | (h > height)
            | (x + w > width) | (y + h > height)
            | (w % patterns[:, 1] != 0) | (h % patterns[:, 0] != 0)).any():
        raise ValueError(f"feature_boxes outside the {height}x{width} window or not fitting their kind")
    history = json.loads(_text(arrays["history"]) or "")
    if not isinstance(history, dict):
        raise ValueError("history should be a JSON object")
    stages, ends = [], np.cumsum(sizes)
    for start, stop, threshold in zip(ends - sizes, ends, stage_thresholds):
        classifier = StrongClassifier(np.arange(stop - start), thresholds[start:stop], polarities[start:stop],
                                      alphas[start:stop], float(threshold))
        stages.append(Stage(HaarFeatures(kinds[start:stop], boxes[start:stop]), classifier))
    return (height, width), min_std, stages, history
