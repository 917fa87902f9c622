"""Training-time augmentation of 48x48 faces, in NumPy and OpenCV (no backend code).

Each face gets one random affine warp (mirror, shift, rotation, zoom) and,
with some probability, a random rectangle erased to noise, as in Zhong et
al. [1]_. Expressions are left-right symmetric, so mirroring keeps labels.
Batches can also mix pairs of faces and their targets (mixup, cutmix).

References
----------
.. [1] Z. Zhong et al., "Random Erasing Data Augmentation", AAAI 2020.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..faces import mirror_faces


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
    sources = np.where(mirrors[:, None, None], mirror_faces(faces), faces)
    out = np.empty_like(faces)
    for i in range(n):
        matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angles[i], scales[i])
        matrix[:, 2] += shifts[i]
        out[i] = cv2.warpAffine(sources[i], matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
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


def mix_pairs(faces, targets, rng, mode="mixup", alpha=0.2):
    """Mix each face and its target with another face of the batch.

    ``"mixup"`` blends whole faces, ``lam * a + (1 - lam) * b`` [2]_;
    ``"cutmix"`` pastes a rectangle of ``b`` over ``a`` and weighs the
    targets by the pasted area [3]_. One proportion ``lam`` ~ Beta(alpha,
    alpha) is drawn per batch.

    Parameters
    ----------
    faces : ndarray, shape (n, h, w)
    targets : ndarray of float, shape (n, k)
        One-hot (or already smoothed) class distributions.
    rng : numpy.random.Generator
    mode : {"mixup", "cutmix"}
    alpha : float

    Returns
    -------
    faces : ndarray of float32, shape (n, h, w)
    targets : ndarray of float32, shape (n, k)
        Rows still sum to 1.

    References
    ----------
    .. [2] H. Zhang et al., "mixup: Beyond Empirical Risk Minimization",
       ICLR 2018.
    .. [3] S. Yun et al., "CutMix: Regularization Strategy to Train Strong
       Classifiers with Localizable Features", ICCV 2019.
    """
    if mode not in ("mixup", "cutmix"):
        raise ValueError(f"unknown mixing {mode!r}; choose mixup or cutmix")
    faces = np.asarray(faces, dtype=np.float32)
    targets = np.asarray(targets, dtype=np.float32)
    n, h, w = faces.shape
    partner = rng.permutation(n)
    lam = float(rng.beta(alpha, alpha))
    if mode == "mixup":
        mixed = lam * faces + (1 - lam) * faces[partner]
    else:
        cut_h, cut_w = int(round(h * np.sqrt(1 - lam))), int(round(w * np.sqrt(1 - lam)))
        y, x = rng.integers(0, h - cut_h + 1), rng.integers(0, w - cut_w + 1)
        mixed = faces.copy()
        mixed[:, y:y + cut_h, x:x + cut_w] = faces[partner, y:y + cut_h, x:x + cut_w]
        lam = 1 - cut_h * cut_w / (h * w)
    return mixed, (lam * targets + (1 - lam) * targets[partner]).astype(np.float32)
