"""Build detectors, load models and warm them up: the one place every front end calls.

The CLI, the GUI, batch jobs, the comparison and ``explain`` all get their
detector from :func:`build_detector` and their model from :func:`load_model`,
so a detector name or a model file means the same thing everywhere.

Models of each ``kind`` in the manifest are loaded by the function that
:data:`MODEL_LOADERS` names for it; the trust rule for pickles is the
store's (:mod:`fer_classic.store`).
"""

from __future__ import annotations

import numpy as np

from .data import FACE_SIZE
from .detect import CASCADES, DownscaledDetector, HaarCascadeDetector, RegionTrackingDetector
from .store import ModelError, check_integrity, resolve_model, shipped_models_dir, unpickle

VIOLA_JONES = "viola-jones"
DETECTORS = (*CASCADES, VIOLA_JONES)
VIOLA_JONES_FILE = "viola_jones_cascade.npz"


def shipped_cascade():
    """The from-scratch Viola-Jones cascade that ships with the package, or None if it is absent."""
    from .detect.viola_jones import load_cascade

    path = shipped_models_dir() / VIOLA_JONES_FILE
    return load_cascade(path) if path.is_file() else None


def build_detector(name="frontal-default", scale_factor=1.1, min_neighbors=5, min_size=30, video=False,
                   detect_scale=0.5, refresh=10):
    """A face detector by name, checked.

    Parameters
    ----------
    name : str
        One of :data:`DETECTORS`: OpenCV's Haar cascades, or ``"viola-jones"``,
        this project's from-scratch cascade.
    scale_factor : float
        Step between pyramid scales (> 1).
    min_neighbors : int
        Raw detections needed to keep a face (>= 0).
    min_size : int
        Smallest face side in pixels (> 0).
    video : bool
        Wrap it for video: detection on a frame scaled by ``detect_scale``,
        full scans every ``refresh`` frames and tracking in between.

    Returns
    -------
    object with ``detect(image) -> (n, 4) boxes``
    """
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; choose from {', '.join(DETECTORS)}")
    if not scale_factor > 1:
        raise ValueError(f"scale factor must be greater than 1, got {scale_factor}")
    if min_neighbors < 0:
        raise ValueError(f"min neighbors must be 0 or more, got {min_neighbors}")
    if min_size <= 0:
        raise ValueError(f"min size must be positive, got {min_size}")
    if name == VIOLA_JONES:
        from .detect.viola_jones import ViolaJonesDetector

        cascade = shipped_cascade()
        if cascade is None:
            raise ModelError(f"the Viola-Jones cascade is not installed ({VIOLA_JONES_FILE}); "
                             "train one with `fer-classic train-detector`")
        detector = ViolaJonesDetector(cascade, scale_factor, min_neighbors, (min_size, min_size))
    else:
        detector = HaarCascadeDetector(name, scale_factor, min_neighbors, (min_size, min_size))
    if video:
        detector = RegionTrackingDetector(DownscaledDetector(detector, detect_scale), refresh=refresh)
    return detector


def _load_pickled(path, entry, trust):
    return unpickle(path, trust)


def _load_cnn(path, entry, trust):
    from .cnn import CNNClassifier  # pickle-free weights: trust is not needed

    return CNNClassifier.load(path, tta=entry.get("parameters", {}).get("tta", "flip"))


MODEL_LOADERS = {"classical": _load_pickled, "cnn": _load_cnn}


def _kind(resolved):
    """The manifest's kind for a listed model; for a bare file, what its format says."""
    if resolved.source != "file" and resolved.entry.get("kind") in MODEL_LOADERS:
        return resolved.entry["kind"]
    return "cnn" if resolved.path.suffix == ".npz" else "classical"


def load_model(name_or_path, trust=False):
    """Load a model by name or path, under the store's trust rule.

    Parameters
    ----------
    name_or_path : str or Path
        A name from ``fer-classic models``, or a model file.
    trust : bool
        Unpickle a file that is neither shipped nor trained by this user.

    Returns
    -------
    model : object with ``predict_proba``
    entry : dict
        Its manifest entry (``{}`` for an unlisted file).
    """
    resolved = resolve_model(name_or_path)
    check_integrity(resolved)
    model = MODEL_LOADERS[_kind(resolved)](resolved.path, resolved.entry, trust)
    return model, resolved.entry


def warm_up(model):
    """Classify one blank face, so lazy loads (dlib's landmark model, a network's graph) happen now.

    Done later they would land in the first image's timings, or freeze a
    window for most of a second.
    """
    model.predict_proba(np.full((1, FACE_SIZE, FACE_SIZE), 128, np.uint8))
    return model
