"""Phase 2, local method, step 1: the 68 facial landmarks of dlib.

dlib's shape predictor is an ensemble of regression trees (Kazemi & Sullivan,
2014) trained on iBUG 300-W. Given a face box it places 68 points:

====== ===================== ====== =====================
points region                points region
====== ===================== ====== =====================
0-16   jaw line              36-41  right eye (image left)
17-21  right brow            42-47  left eye (image right)
22-26  left brow             48-59  outer lips
27-35  nose                  60-67  inner lips
====== ===================== ====== =====================

FER2013's 48x48 crops are already tight faces, so instead of detecting we fit
the predictor to a fixed box over the whole crop, upsampled for sub-pixel
precision (dlib returns integer points).

Two models place the points. ``"dlib"`` is dlib's own (15 cascades of 500
trees, 100 MB, from the face-recognition-models package). ``"distilled"``
ships with fer_classic: a student of 10 cascades of 100 trees, trained with
dlib's trainer on FER2013's Training crops labelled with dlib's points
(``tools/landmark_distillation.py``). It is about six times faster and
places the points within 1.4 px of dlib's on 48 px faces, close enough to
align a face, not to measure it as finely: see
:func:`fer_classic.classify.methods.default_landmark_model`.

References
----------
.. [1] V. Kazemi and J. Sullivan, "One millisecond face alignment with an
       ensemble of regression trees", CVPR 2014.
.. [2] G. Hinton, O. Vinyals and J. Dean, "Distilling the knowledge in a
       neural network", NIPS 2014 deep learning workshop.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import cv2
import dlib
import numpy as np

from ..model_files import packaged_dlib_model, packaged_models_dir

DLIB_MODEL_FILE = "shape_predictor_68_face_landmarks.dat"
SHIPPED_MODEL_FILE = "fer2013_68_landmarks.dat"  # the distilled student
LANDMARK_MODELS = ("distilled", "dlib")
# Six times faster than dlib's model, trained to reproduce its points; a trained model records its own.
DEFAULT_LANDMARK_MODEL = "distilled"
RIGHT_EYE = slice(36, 42)
LEFT_EYE = slice(42, 48)
_PREDICTORS = {}
_DIGESTS = {}


def find_dlib_landmark_model():
    """Locate dlib's own 68-point model: the ``face_recognition_models`` package, then Debian's ``/usr/share/dlib``.

    Returns
    -------
    Path
    """
    candidates = [path for path in (packaged_dlib_model(DLIB_MODEL_FILE), Path("/usr/share/dlib") / DLIB_MODEL_FILE)
                  if path is not None]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"dlib's {DLIB_MODEL_FILE} not found (searched: {', '.join(map(str, candidates))}). "
        "Install it with 'pip install face-recognition-models'.")


def find_landmark_model(model=DEFAULT_LANDMARK_MODEL):
    """Locate a landmark model file.

    Parameters
    ----------
    model : {"distilled", "dlib"}
        The student shipped with fer_classic, or dlib's own model
        (:func:`find_dlib_landmark_model`). ``$FER_CLASSIC_LANDMARKS``, if
        set, names a file that replaces either, for experiments.

    Returns
    -------
    Path
    """
    if model not in LANDMARK_MODELS:
        raise ValueError(f"unknown landmark model {model!r}; choose from {', '.join(LANDMARK_MODELS)}")
    if os.environ.get("FER_CLASSIC_LANDMARKS"):
        chosen = Path(os.environ["FER_CLASSIC_LANDMARKS"])
        if not chosen.is_file():
            raise FileNotFoundError(f"$FER_CLASSIC_LANDMARKS names {chosen}, which is not a file")
        return chosen
    if model == "dlib":
        return find_dlib_landmark_model()
    shipped = packaged_models_dir() / SHIPPED_MODEL_FILE
    if not shipped.is_file():
        raise FileNotFoundError(f"the distilled landmark model {shipped} is missing; reinstall fer_classic")
    return shipped


def _predictor(model):
    # Loading takes up to 0.6 s, so each process loads each model once.
    path = find_landmark_model(model)
    if path not in _PREDICTORS:
        _PREDICTORS[path] = dlib.shape_predictor(str(path))
    return _PREDICTORS[path]


def fit_landmarks(faces, boxes=None, upsample=2, model=DEFAULT_LANDMARK_MODEL):
    """Place the 68 landmarks on each face.

    Parameters
    ----------
    faces : ndarray of uint8, shape (n, h, w)
        Grayscale face crops.
    boxes : ndarray, shape (n, 4), optional
        Face boxes (x, y, w, h) inside each crop; the whole crop by default.
    upsample : int
        Factor by which crops are enlarged before fitting, for sub-pixel points.
    model : {"distilled", "dlib"}
        See :func:`find_landmark_model`.

    Returns
    -------
    ndarray of float32, shape (n, 68, 2)
        (x, y) in the crop's pixel coordinates.
    """
    faces = np.asarray(faces)
    if faces.ndim != 3 or faces.dtype != np.uint8:
        raise ValueError(f"faces must be uint8 (n, h, w), got {faces.dtype} {faces.shape}")
    if upsample < 1:
        raise ValueError(f"upsample must be >= 1, got {upsample}")
    n, h, w = faces.shape
    if boxes is None:
        boxes = np.tile([0, 0, w, h], (n, 1))
    predictor = _predictor(model)
    points = np.empty((n, 68, 2), dtype=np.float32)
    for i, (face, (x, y, bw, bh)) in enumerate(zip(faces, boxes)):
        big = cv2.resize(face, (w * upsample, h * upsample), interpolation=cv2.INTER_LINEAR) if upsample > 1 else face
        box = dlib.rectangle(int(x * upsample), int(y * upsample),
                             int((x + bw) * upsample) - 1, int((y + bh) * upsample) - 1)
        shape = predictor(big, box)
        points[i] = [(p.x, p.y) for p in shape.parts()]
    # Pixel centres: point p in the upsampled image sits at (p + 0.5) / s - 0.5.
    return (points + 0.5) / upsample - 0.5


def landmark_model_digest(model=DEFAULT_LANDMARK_MODEL):
    """A short digest of a landmark model's content (see :func:`find_landmark_model`), computed once per process.

    Cached landmarks, and the features built on them, are keyed by it, so
    pointing ``$FER_CLASSIC_LANDMARKS`` at another model never reuses what the
    previous one placed.
    """
    path = find_landmark_model(model)
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = hashlib.blake2b(path.read_bytes(), digest_size=8).hexdigest()
    return _DIGESTS[key]


def eye_centers(landmarks):
    """Centres of the right and left eyes, each of shape (n, 2)."""
    landmarks = np.asarray(landmarks, dtype=np.float32)
    return landmarks[:, RIGHT_EYE].mean(axis=1), landmarks[:, LEFT_EYE].mean(axis=1)
