"""Every intermediate result of the three phases, for figures and teaching overlays.

:func:`run_phases` runs a recognizer on one image like
:meth:`~fer_classic.EmotionRecognizer.analyze`, and also keeps what each phase
saw and produced: the boxes, each 48x48 crop with its 68 landmarks, the
eye-aligned face with its HOG visualisation and LBP label image, the geometric
features, the probabilities, and the time each phase took.
"""

from __future__ import annotations

import numpy as np

from .extract import align_faces, fit_landmarks, geometric_features, lbp_image
from .imageio import to_gray_uint8
from .pipeline import crop_faces


def hog_visualisation(face, cell_size=8, n_bins=9):
    """The HOG of ``face`` drawn as oriented strokes per cell (scikit-image's rendering).

    Parameters
    ----------
    face : ndarray of uint8, shape (s, s)

    Returns
    -------
    ndarray of float64, shape (s, s)
        Stroke intensity, for display only (the features come from OpenCV).
    """
    from skimage.feature import hog

    _, image = hog(face, orientations=n_bins, pixels_per_cell=(cell_size, cell_size), cells_per_block=(2, 2),
                   visualize=True)
    return image


def run_phases(recognizer, image, color_order="bgr"):
    """Analyse ``image`` and keep every phase's output.

    Parameters
    ----------
    recognizer : fer_classic.EmotionRecognizer
    image : ndarray
        Any image :func:`fer_classic.imageio.to_gray_uint8` accepts.
    color_order : {"bgr", "rgb"}

    Returns
    -------
    dict
        ``gray`` (h, w) uint8; ``timings`` (seconds for ``detect``,
        ``extract``, ``classify``); ``faces``, a list with per face ``box``,
        ``crop`` (48, 48) uint8, ``landmarks`` (68, 2) in crop pixels,
        ``aligned`` (48, 48) uint8, ``hog_image`` (48, 48) float, ``lbp_image``
        (46, 46) labels 0..58, ``geometric`` (170,) float32, ``emotion`` and
        ``probabilities`` ({emotion: float}).
    """
    timings = {}
    results = recognizer.analyze(image, color_order=color_order, timings=timings)
    gray = to_gray_uint8(image, color_order)
    boxes = np.array([face["box"] for face in results], dtype=np.int64).reshape(-1, 4)
    crops = crop_faces(gray, boxes)
    landmarks = fit_landmarks(crops, model=recognizer.landmark_model)
    aligned = align_faces(crops, landmarks)
    geometric = geometric_features(landmarks)
    labels = lbp_image(aligned)
    faces = []
    for i, face in enumerate(results):
        faces.append({**face, "crop": crops[i], "landmarks": landmarks[i], "aligned": aligned[i],
                      "hog_image": hog_visualisation(aligned[i]), "lbp_image": labels[i], "geometric": geometric[i]})
    return {"gray": gray, "timings": timings, "faces": faces}
