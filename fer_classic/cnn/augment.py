"""Training-time augmentation of 48x48 faces, in NumPy and OpenCV (no backend code).

Each face gets one random affine warp (mirror, shift, rotation, zoom) and,
with some probability, a random rectangle erased to noise, as in Zhong et
al. [1]_. Expressions are left-right symmetric, so mirroring keeps labels.

References
----------
.. [1] Z. Zhong et al., "Random Erasing Data Augmentation", AAAI 2020.
"""

from __future__ import annotations

import cv2
import numpy as np


def random_affine(faces, rng, shift=0.1, rotation=10.0, zoom=0.1, flip=True):
    """Warp each face by its own random mirror, shift, rotation and zoom.

    Parameters
    ----------
    faces : ndarray of uint8, shape (n, h, w)
    rng : numpy.random.Generator
    shift : float
        Largest shift, as a fraction of the side.
    rotation : float
        Largest rotation in degrees, either way.
    zoom : float
        Largest relative zoom in or out.
    flip : bool
        Mirror half of the faces.

    Returns
    -------
    ndarray of uint8, shape (n, h, w)
        Borders filled by edge replication.
    """
    faces = np.asarray(faces)
    if faces.ndim != 3:
        raise ValueError(f"faces must be (n, h, w), got shape {faces.shape}")
    n, h, w = faces.shape
    angles = rng.uniform(-rotation, rotation, n)
    scales = rng.uniform(1 - zoom, 1 + zoom, n)
    shifts = rng.uniform(-shift, shift, (n, 2)) * (w, h)
    mirrors = rng.random(n) < 0.5 if flip else np.zeros(n, bool)
    out = np.empty_like(faces)
    for i in range(n):
        matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angles[i], scales[i])
        matrix[:, 2] += shifts[i]
        source = faces[i, :, ::-1] if mirrors[i] else faces[i]
        out[i] = cv2.warpAffine(np.ascontiguousarray(source), matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    return out


def random_erasing(faces, rng, probability=0.5, area=(0.02, 0.2), aspect=(0.3, 3.3)):
    """Replace one random rectangle per face, with ``probability``, by uniform noise.

    Parameters
    ----------
    faces : ndarray of uint8, shape (n, h, w)
    rng : numpy.random.Generator
    probability : float
    area : (float, float)
        Range of the rectangle's area as a fraction of the face.
    aspect : (float, float)
        Range of its height/width ratio.

    Returns
    -------
    ndarray of uint8, shape (n, h, w)
        A copy; ``faces`` is not modified.
    """
    faces = np.array(faces, copy=True)
    n, h, w = faces.shape
    for i in np.flatnonzero(rng.random(n) < probability):
        target = rng.uniform(*area) * h * w
        ratio = np.exp(rng.uniform(*np.log(aspect)))
        eh = int(min(h, round(np.sqrt(target * ratio))))
        ew = int(min(w, round(np.sqrt(target / ratio))))
        y, x = rng.integers(0, h - eh + 1), rng.integers(0, w - ew + 1)
        faces[i, y:y + eh, x:x + ew] = rng.integers(0, 256, (eh, ew), dtype=np.uint8)
    return faces
