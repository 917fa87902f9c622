"""Build detectors, load models and warm them up: the one place every front end calls.

The CLI, the GUI, batch jobs, the comparison and ``explain`` all get their
detector from :func:`build_detector` and their model from :func:`load_model`,
so a detector name or a model file means the same thing everywhere.

Models of each ``kind`` in the manifest are loaded by the function that
:data:`MODEL_LOADERS` names for it; the trust rule for pickles is the
store's (:mod:`fer_classic.store`).
"""

from __future__ import annotations

import warnings

import numpy as np

from .data import FACE_SIZE
from .detect import (CASCADES, DlibCnnDetector, DlibHogDetector, DownscaledDetector, HaarCascadeDetector,
                     MergedDetector, ProfileDetector, RegionTrackingDetector, VerifiedDetector)
from .store import ModelError, check_integrity, resolve_model, shipped_models_dir, unpickle

VERIFIED = "verified"
FRONTAL_PROFILE = "frontal-profile"
DLIB_HOG = "dlib-hog"
DLIB_CNN = "dlib-cnn"
VIOLA_JONES = "viola-jones"
# Every detector by name; README "Detection" measures each on the committed labelled set.
DETECTORS = (VERIFIED, *CASCADES, FRONTAL_PROFILE, DLIB_HOG, DLIB_CNN, VIOLA_JONES)
# The most accurate detector within about 100 ms on a 640x480 photo on one core, and a fast one for video
# (benchmarks/detectors.py measures them all).
PHOTO_DETECTOR = VERIFIED
VIDEO_DETECTOR = DLIB_HOG
# Haar detections a face needs (else 5): the verified detector's cascade only proposes, so it is permissive.
DEFAULT_MIN_NEIGHBORS = {VERIFIED: 2}
# Pyramid step (else 1.1): a coarser step keeps the verified detector near 80 ms per 640x480 frame instead of
# 135, for one face fewer found on the detection set; the from-scratch cascade was tuned at 1.25.
DEFAULT_SCALE_FACTOR = {VERIFIED: 1.2, VIOLA_JONES: 1.25}
# dlib's detectors see faces of about 80 px and more; a smaller min_size doubles the image first. Their image
# pyramid shrinks by 5/6 a level.
DLIB_WINDOW = 80
DLIB_PYRAMID_STEP = 6 / 5
# In video, the region around a known face is zoomed so the face is about this wide before detection. The video
# detector halves it and dlib doubles it again, so the face meets dlib's 80-px window with room to shrink. On the
# comparison's clip, in runs alternating with and without it, detection took 6.5-6.8 ms a frame against 7.6-8.3, and
# found a face in 69 of 90 frames against 70 (the whole pipeline: benchmarks/results/2026-12-02-21174b9-video).
TRACKED_FACE_SIDE = 100
VIOLA_JONES_FILE = "viola_jones_cascade.npz"


def shipped_cascade():
    """The from-scratch Viola-Jones cascade that ships with the package, or None if it is absent."""
    from .detect.viola_jones import load_cascade

    path = shipped_models_dir() / VIOLA_JONES_FILE
    return load_cascade(path) if path.is_file() else None


def build_detector(name=None, scale_factor=None, min_neighbors=None, min_size=30, video=False,
                   detect_scale=0.5, refresh=10):
    """A face detector by name, checked.

    Parameters
    ----------
    name : str, optional
        One of :data:`DETECTORS` (default :data:`PHOTO_DETECTOR`, or
        :data:`VIDEO_DETECTOR` with ``video``):

        - ``"verified"``: the frontal Haar cascade's candidates, each
          confirmed by dlib's HOG detector on a zoomed crop;
        - ``"frontal-default"``, ``"frontal-alt2"``: OpenCV's frontal Haar cascades;
        - ``"profile"``: OpenCV's profile cascade on the image and its mirror;
        - ``"frontal-profile"``: the frontal and profile cascades, duplicates merged;
        - ``"dlib-hog"``, ``"dlib-cnn"``: dlib's HOG and CNN detectors;
        - ``"viola-jones"``: this project's from-scratch cascade.
    scale_factor : float, optional
        Step between pyramid scales (> 1), for the cascades; default
        :data:`DEFAULT_SCALE_FACTOR`, else 1.1.
    min_neighbors : int, optional
        Raw detections needed to keep a face (>= 0), for the cascades;
        default :data:`DEFAULT_MIN_NEIGHBORS`, else 5.
    min_size : int
        Smallest face side in pixels (> 0). dlib's detectors upsample the
        image once when it is below :data:`DLIB_WINDOW`.
    video : bool
        Wrap it for video: detection on a frame scaled by ``detect_scale``,
        full scans every ``refresh`` frames, and in between a search of the
        region around each known face, zoomed so the face is about
        :data:`TRACKED_FACE_SIDE` pixels wide.
    detect_scale : float
        In (0, 1].
    refresh : int
        >= 1.

    Returns
    -------
    object with ``detect(image) -> (n, 4) boxes``
    """
    name = name or (VIDEO_DETECTOR if video else PHOTO_DETECTOR)
    scale_factor = DEFAULT_SCALE_FACTOR.get(name, 1.1) if scale_factor is None else scale_factor
    min_neighbors = DEFAULT_MIN_NEIGHBORS.get(name, 5) if min_neighbors is None else min_neighbors
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; choose from {', '.join(DETECTORS)}")
    if not scale_factor > 1:
        raise ValueError(f"scale factor must be greater than 1, got {scale_factor}")
    if min_neighbors < 0:
        raise ValueError(f"min neighbors must be 0 or more, got {min_neighbors}")
    if min_size <= 0:
        raise ValueError(f"min size must be positive, got {min_size}")
    if not 0 < detect_scale <= 1:
        raise ValueError(f"detect scale must be in (0, 1], got {detect_scale}")
    if refresh < 1:
        raise ValueError(f"refresh must be 1 or more, got {refresh}")
    detector = _detector(name, scale_factor, min_neighbors, (min_size, min_size))
    if video:
        pyramid_step = DLIB_PYRAMID_STEP if name in (DLIB_HOG, DLIB_CNN) else scale_factor
        detector = RegionTrackingDetector(DownscaledDetector(detector, detect_scale), refresh=refresh,
                                          face_side=TRACKED_FACE_SIDE, pyramid_step=pyramid_step)
    return detector


def _detector(name, scale_factor, min_neighbors, min_size):
    upsample = int(min_size[0] < DLIB_WINDOW)
    if name == VERIFIED:
        return VerifiedDetector(HaarCascadeDetector("frontal-default", scale_factor, min_neighbors, min_size))
    if name == "profile":
        return ProfileDetector(scale_factor, min_neighbors, min_size)
    if name == FRONTAL_PROFILE:
        return MergedDetector([HaarCascadeDetector("frontal-default", scale_factor, min_neighbors, min_size),
                               ProfileDetector(scale_factor, min_neighbors, min_size)])
    if name == DLIB_HOG:
        return DlibHogDetector(upsample, min_size=min_size)
    if name == DLIB_CNN:
        return DlibCnnDetector(upsample, min_size=min_size)
    if name == VIOLA_JONES:
        from .detect.viola_jones import ViolaJonesDetector

        cascade = shipped_cascade()
        if cascade is None:
            raise ModelError(f"the Viola-Jones cascade is not installed ({VIOLA_JONES_FILE}); "
                             "train one with `fer-classic train-detector`")
        return ViolaJonesDetector(cascade, scale_factor, min_neighbors, min_size)
    return HaarCascadeDetector(name, scale_factor, min_neighbors, min_size)


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
    _check_landmark_model(resolved)
    return model, resolved.entry


def _check_landmark_model(resolved):
    """Warn when a classical model meets landmarks from another model than the one it was trained with."""
    from .extract.landmarks import find_landmark_model, landmark_model_digest

    expected = resolved.entry.get("landmark_model")
    if expected and expected["digest"] != landmark_model_digest(expected["name"]):
        warnings.warn(f"{resolved.path.name} was trained with the landmark model {expected['file']} but "
                      f"{find_landmark_model(expected['name'])} is in use ($FER_CLASSIC_LANDMARKS?): its features "
                      "shift and its accuracy may drop", stacklevel=3)


def warm_up(model):
    """Classify one blank face and fit its landmarks, so lazy loads happen now.

    dlib's landmark model (which the phase views need whatever the model),
    a network's graph and lazy imports would otherwise land in the first
    image's timings, or freeze a window for most of a second.

    Returns
    -------
    model
    """
    from .extract import fit_landmarks

    blank = np.full((1, FACE_SIZE, FACE_SIZE), 128, np.uint8)
    model.predict_proba(blank)
    fit_landmarks(blank)
    return model
