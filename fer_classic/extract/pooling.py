"""Spatial-pyramid pooling and power/L2 normalisation of encoded local descriptors.

An encoding (:mod:`.bovw`, :mod:`.fisher`) gives one code per local
descriptor. Pooling them over the whole face loses where each pattern was; a
spatial pyramid (Lazebnik et al., 2006) also pools over the cells of coarse
grids (2x2, ...), and concatenates. The signed square root ("power
normalisation") then tames bursty components, and L2 normalisation makes
faces comparable with a linear kernel (Perronnin et al., 2010).

References
----------
.. [1] S. Lazebnik, C. Schmid and J. Ponce, "Beyond bags of features: spatial
       pyramid matching for recognizing natural scene categories", CVPR 2006.
.. [2] F. Perronnin, J. Sanchez and T. Mensink, "Improving the Fisher kernel
       for large-scale image classification", ECCV 2010.
"""

from __future__ import annotations

import numpy as np


def pyramid_regions(positions, face_size, levels=(1, 2)):
    """Which descriptors fall in each cell of each pyramid level.

    Parameters
    ----------
    positions : ndarray, shape (k, 2)
        ``(x, y)`` centre of each descriptor, in pixels.
    face_size : int
    levels : tuple of int
        Grid sides: 1 is the whole face, 2 its quadrants, ...

    Returns
    -------
    ndarray of bool, shape (r, k)
        ``r = sum(level ** 2)`` regions, coarsest first, rows then columns.
    """
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 2 or positions.shape[1] != 2:
        raise ValueError(f"positions must be (k, 2), got shape {positions.shape}")
    if not levels or min(levels) < 1:
        raise ValueError(f"levels must be positive grid sides, got {levels}")
    regions = []
    for side in levels:
        cell = np.minimum((positions * side / face_size).astype(int), side - 1)
        regions += [(cell[:, 1] == row) & (cell[:, 0] == column) for row in range(side) for column in range(side)]
    return np.array(regions)


def power_l2_normalise(features, power=0.5):
    """Signed power, then L2 normalisation of each row.

    Parameters
    ----------
    features : ndarray, shape (n, d)
    power : float
        Exponent of the signed power (0.5: signed square root; 1: none).

    Returns
    -------
    ndarray of float32, shape (n, d)
        Rows of unit length (zero rows stay zero).
    """
    features = np.asarray(features, dtype=np.float32)
    powered = np.sign(features) * np.abs(features) ** power
    norms = np.linalg.norm(powered, axis=1, keepdims=True)
    return np.divide(powered, norms, out=np.zeros_like(powered), where=norms > 0)
