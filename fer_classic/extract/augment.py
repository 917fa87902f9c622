"""Training-set augmentation for the classical pipeline."""

import numpy as np

from ..faces import mirror_views


def with_horizontal_flips(faces, labels):
    """Append a mirrored copy of every face; expressions are left-right symmetric.

    Parameters
    ----------
    faces : ndarray, shape (n, h, w)
    labels : ndarray, shape (n,)

    Returns
    -------
    faces : ndarray, shape (2n, h, w)
    labels : ndarray, shape (2n,)
    """
    return mirror_views(faces), np.concatenate([labels, labels])
