"""Explicit kernel maps: a linear classifier on the mapped features behaves like a kernel machine on the originals.

A kernel SVM costs time quadratic in the number of training faces; a linear
SVM on an explicit map of the features costs linear time. For histograms
(LBP codes, visual words) the Hellinger kernel
``k(x, y) = sum_i sqrt(x_i * y_i)`` is the dot product of the element-wise
square roots [1]_, so the map is exact and free: take the square root, then
L2-normalise so every face weighs the same. (RootSIFT [2]_ applies the same
map to SIFT descriptors.)

References
----------
.. [1] A. Vedaldi and A. Zisserman, "Efficient additive kernels via explicit
       feature maps", IEEE TPAMI 34(3), 2012.
.. [2] R. Arandjelovic and A. Zisserman, "Three things everyone should know
       to improve object retrieval", CVPR 2012.
"""

from __future__ import annotations

import numpy as np


def hellinger_map(histograms):
    """Map non-negative histograms so that their dot product is the Hellinger kernel.

    Parameters
    ----------
    histograms : array_like, shape (n, d)
        Non-negative values (counts or frequencies), any float or int dtype.

    Returns
    -------
    ndarray of float32, shape (n, d)
        Element-wise square roots, each row scaled to unit L2 norm (all-zero
        rows stay zero).
    """
    histograms = np.asarray(histograms, dtype=np.float32)
    if histograms.ndim != 2:
        raise ValueError(f"histograms must be a 2-D array (n, d), got shape {histograms.shape}")
    if histograms.size and histograms.min() < 0:
        raise ValueError("the Hellinger map needs non-negative histograms; got negative values")
    roots = np.sqrt(histograms)
    # The squared norm of the roots is the histogram's sum: no squared copy. Divided in place: a fresh array of this
    # size costs more in page faults than the arithmetic.
    norms = np.sqrt(histograms.sum(axis=1, keepdims=True))
    return np.divide(roots, np.maximum(norms, np.float32(1e-12)), out=roots)
