"""Training data, all offline, and the one-call training behind ``fer-classic train-detector``.

Positives are FER2013's ``Training`` faces (48x48, shrunk to the 24x24
window). FER2013's crops are tight, from the forehead to the chin, so the
detector's boxes are framed the same way. FER2013 holds every pose, tilt and
occlusion, and a face class that wide leaves Haar features little to hold on
to: at a 99% detection rate a 100-feature stage still passed about half of the
textured non-faces. So, like the frontal training sets of Viola and Jones,
only roughly frontal, upright faces are kept: the most left-right symmetric
fifth of FER2013, measured as the correlation of a face with its mirror image
(:func:`mirror_symmetry`). The same stage then passes about a sixth of the
non-faces.

Negatives are every window, at every scale, of pictures that hold no human
face. They are the images shipped with scikit-image, minus:

- ``astronaut`` and ``camera`` (the cameraman), which show human faces;
- ``coffee``, ``rocket``, ``chelsea`` and ``stereo_motorcycle``, held out as
  the backgrounds of the benchmark's scenes, so its false positives are
  counted on pictures the detector never trained on. ``chelsea`` is a cat:
  its face is not a human face, so a detection on it is a false positive,
  a hard one, and it is kept for testing rather than training.

and plus the two photos scikit-learn ships (``china.jpg``, a temple, and
``flower.jpg``), because the scikit-image images left are mostly textures,
documents and microscopy, and the benchmark's backgrounds are photos. Each
picture serves in all eight orientations, turned and mirrored
(:func:`eight_views`): the later stages of the cascade need more hard
negatives than the pictures hold in one orientation.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from ...data import load_fer2013
from ...faces import mirror_faces
from ...imageio import to_gray_uint8
from ...workers import DEFAULT_JOBS
from .cascade import save_cascade, train_cascade

TRAINING_BACKGROUNDS = ("brick", "grass", "gravel", "coins", "moon", "page", "text", "horse", "hubble_deep_field",
                        "immunohistochemistry", "retina", "clock", "colorwheel", "logo", "checkerboard",
                        "microaneurysms", "cell", "binary_blobs", "shepp_logan_phantom", "china.jpg", "flower.jpg")
BENCHMARK_BACKGROUNDS = ("coffee", "rocket", "chelsea", "stereo_motorcycle")
WITH_FACES = ("astronaut", "camera")


def background_image(name):
    """A face-free picture as 8-bit grayscale.

    Parameters
    ----------
    name : str
        A :mod:`skimage.data` function name, or ``china.jpg`` / ``flower.jpg``
        from :func:`sklearn.datasets.load_sample_image`.

    Returns
    -------
    ndarray of uint8, shape (h, w)
    """
    if name in WITH_FACES:
        raise ValueError(f"{name!r} shows human faces and cannot be a background")
    if name.endswith(".jpg"):
        from sklearn.datasets import load_sample_image
        return to_gray_uint8(load_sample_image(name), "rgb")
    from skimage import data
    # binary_blobs draws new blobs on every call unless seeded
    image = data.binary_blobs(rng=0) if name == "binary_blobs" else getattr(data, name)()
    if isinstance(image, tuple):  # stereo_motorcycle: (left, right, disparity)
        image = image[0]
    return to_gray_uint8(image, "rgb")


def eight_views(image):
    """An image turned by 0, 90, 180 and 270 degrees, and the same mirrored: new windows, still no faces."""
    return [np.ascontiguousarray(np.rot90(view, turns)) for view in (image, image[:, ::-1]) for turns in range(4)]


def mirror_symmetry(faces):
    """Correlation of each face with its left-right mirror image: near 1 for frontal, upright faces.

    Parameters
    ----------
    faces : ndarray, shape (n, h, w)

    Returns
    -------
    ndarray of float64, shape (n,)
        In [-1, 1]; 0 for blank faces.
    """
    faces = np.asarray(faces, dtype=np.float64)
    if faces.ndim != 3:
        raise ValueError(f"faces must be (n, h, w), got shape {faces.shape}")
    centred = faces - faces.mean(axis=(1, 2), keepdims=True)
    mirrored = mirror_faces(centred)
    energy = (centred ** 2).sum(axis=(1, 2))
    return np.divide((centred * mirrored).sum(axis=(1, 2)), energy, out=np.zeros(len(faces)), where=energy > 0)


def face_windows(faces, window_shape=(24, 24)):
    """Faces shrunk to the detection window with area averaging.

    Parameters
    ----------
    faces : ndarray of uint8, shape (n, h, w)
    window_shape : (int, int)

    Returns
    -------
    ndarray of uint8, shape (n,) + window_shape
    """
    faces = np.asarray(faces)
    if faces.ndim != 3 or faces.dtype != np.uint8:
        raise ValueError(f"faces must be uint8 (n, h, w), got {faces.dtype} {faces.shape}")
    size = (window_shape[1], window_shape[0])
    return np.stack([cv2.resize(face, size, interpolation=cv2.INTER_AREA) for face in faces]) if len(faces) \
        else np.zeros((0, *window_shape), dtype=np.uint8)


def train_detector(out_path, n_positives=3000, n_negatives=2000, frontal_fraction=0.2, min_detection_rate=0.98,
                   max_false_positive_rate=0.5, max_stages=20, max_stage_features=100, n_jobs=DEFAULT_JOBS, seed=0,
                   data=None, log=print, progress=True):
    """Train a small cascade on FER2013 faces and face-free pictures, and save it.

    Parameters
    ----------
    out_path : str or Path
        The ``.npz`` to write.
    n_positives : int
        FER2013 ``Training`` faces drawn (a quarter of them set the stage
        thresholds; the rest, with their mirror images, are boosted on).
    frontal_fraction : float
        Draw them from this most mirror-symmetric share of the faces.
    n_negatives : int
        Negative windows per stage.
    min_detection_rate, max_false_positive_rate, max_stages, max_stage_features
        See :func:`.train_cascade`.
    n_jobs : int
        Threads.
    seed : int
    data : FER2013, optional
        Already loaded; default :func:`fer_classic.data.load_fer2013`.
    log : callable
        Receives one line per stage.
    progress : bool
        Show progress bars.

    Returns
    -------
    dict
        ``path``, ``size_bytes``, ``seconds``, ``n_stages``, ``n_features``,
        ``stage_features``, ``detection_rate`` (share of held-out faces
        passing the whole cascade), ``false_positive_rate`` (share of the
        negative images' windows passing it), ``n_positives``,
        ``n_negatives``, ``n_jobs``.
    """
    started = time.perf_counter()
    data = load_fer2013() if data is None else data
    faces = data["Training"].faces
    symmetry = mirror_symmetry(faces)
    frontal = np.flatnonzero(symmetry >= np.quantile(symmetry, 1 - frontal_fraction))
    chosen = np.random.default_rng(seed).choice(frontal, size=min(n_positives, len(frontal)), replace=False)
    positives = face_windows(faces[chosen])
    negatives = [view for name in TRAINING_BACKGROUNDS for view in eight_views(background_image(name))]
    cascade = train_cascade(positives, negatives, n_negatives=n_negatives, min_detection_rate=min_detection_rate,
                            max_false_positive_rate=max_false_positive_rate, max_stages=max_stages,
                            max_stage_features=max_stage_features, n_jobs=n_jobs, seed=seed, log=log,
                            progress=progress)
    path = save_cascade(cascade, out_path)
    history = cascade.history
    last_stage = history["stages"][-1] if history["stages"] else history["contrast_test"]
    stats = {
        "path": str(path),
        "size_bytes": Path(path).stat().st_size,
        "seconds": round(time.perf_counter() - started, 1),
        "n_stages": len(cascade.stages),
        "n_features": cascade.n_features,
        "stage_features": [stage["n_features"] for stage in history["stages"]],
        "detection_rate": last_stage.get("cascade_detection_rate", last_stage["detection_rate"]),
        "false_positive_rate": last_stage["negatives_left"] / history["negative_windows"],
        "n_positives": len(positives),
        "frontal_fraction": frontal_fraction,
        "n_negatives": n_negatives,
        "n_jobs": n_jobs,
    }
    log(f"saved {path} ({stats['size_bytes'] / 1e3:.0f} kB): {stats['n_stages']} stages, {stats['n_features']} "
        f"features, in {stats['seconds']:.0f} s")
    return stats
