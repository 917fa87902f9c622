"""Load a model by name or file under the store's trust rule, and warm it up: what every front end calls.

Models of each ``kind`` in the manifest are loaded by the function that
:data:`MODEL_LOADERS` names for it; the trust rule for pickles is the
catalogue's (:mod:`fer_classic.store.catalogue`).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from ..faces import FACE_SIZE
from .catalogue import check_integrity, resolve_model, unpickle


def _load_pickled(path, entry, trust):
    return unpickle(path, trust)


def _load_cnn(path, entry, trust):
    from ..cnn import CNNClassifier  # pickle-free weights: trust is not needed

    return CNNClassifier.load(path, tta=entry.parameters.get("tta", "flip") if entry else "flip")


MODEL_LOADERS = {"classical": _load_pickled, "cnn": _load_cnn}


def _kind(resolved):
    """The manifest's kind for a listed model; for a bare file, what its format says."""
    if resolved.source != "file" and resolved.entry and resolved.entry.kind in MODEL_LOADERS:
        return resolved.entry.kind
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
    entry : ModelEntry or None
        Its manifest entry (None for an unlisted file).
    """
    resolved = resolve_model(name_or_path)
    check_integrity(resolved)
    model = MODEL_LOADERS[_kind(resolved)](resolved.path, resolved.entry, trust)
    _check_landmark_model(resolved)
    return model, resolved.entry


def _check_landmark_model(resolved):
    """Warn when a classical model meets landmarks from another model than the one it was trained with."""
    from ..extract.landmarks import find_landmark_model, landmark_model_digest

    expected = resolved.entry.landmark_model if resolved.entry else None
    if expected and expected["digest"] != landmark_model_digest(expected["name"]):
        warnings.warn(f"{resolved.path.name} was trained with the landmark model {expected['file']} but "
                      f"{find_landmark_model(expected['name'])} is in use ($FER_CLASSIC_LANDMARKS?): its features "
                      "shift and its accuracy may drop", stacklevel=3)


def warm_up(model):
    """Classify one blank face and fit its landmarks, so lazy loads happen now: the one warm-up every front end uses.

    dlib's landmark model (which the phase views need whatever the model),
    a network's graph, a recognizer's detector files and lazy imports would
    otherwise land in the first image's timings, several times a warm
    detection's, or freeze a window for most of a second.

    Returns
    -------
    model
    """
    from ..extract.landmarks import DEFAULT_LANDMARK_MODEL, fit_landmarks

    blank = np.full((1, FACE_SIZE, FACE_SIZE), 128, np.uint8)
    model.predict_proba(blank)
    fit_landmarks(blank, model=getattr(model, "landmark_model", DEFAULT_LANDMARK_MODEL))
    detector = getattr(model, "detector", None)       # a recognizer's
    if detector is not None:
        warm_up_detector(detector)
    return model


def warm_up_detector(detector):
    """Run ``detector`` once on a real face, so its lazily loaded files are not counted in the first image's time.

    A real face, not a blank image: a detector that verifies its candidates
    loads its verifier only when there is a candidate.

    Returns
    -------
    detector
    """
    detector.detect(_warm_up_photo())
    if hasattr(detector, "reset"):
        detector.reset()                               # a tracking detector forgets the warm-up frame
    return detector


@functools.lru_cache(maxsize=1)
def _warm_up_photo():
    # Decoded once: the GUI warms every detector it builds, and builds one per video and setting.
    from skimage import data

    photo = np.ascontiguousarray(data.astronaut()[::2, ::2, ::-1])
    photo.flags.writeable = False
    return photo
