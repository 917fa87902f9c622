"""Phase 2, global method: histograms of oriented gradients (HOG).

HOG (Dalal & Triggs, 2005) divides the face into cells, histograms the
gradient orientations in each cell, and normalises them over overlapping
blocks of cells. It captures the shape of wrinkles, mouth and brows while
ignoring absolute brightness. OpenCV's ``HOGDescriptor`` computes it about ten
times faster than ``skimage.feature.hog`` on a 48x48 face.

References
----------
.. [1] N. Dalal and B. Triggs, "Histograms of oriented gradients for human
       detection", CVPR 2005.
"""

from __future__ import annotations

import cv2
import numpy as np


def hog_descriptor(size, cell_size, n_bins=9, block_cells=2):
    """An OpenCV ``HOGDescriptor`` for square ``size`` images.

    Blocks of ``block_cells`` x ``block_cells`` cells step by one cell and are
    L2-Hys normalised.
    """
    if cell_size < 2 or (size - block_cells * cell_size) % cell_size:
        raise ValueError(f"cell_size {cell_size} with {block_cells}x{block_cells} blocks does not tile a {size}px face")
    block = block_cells * cell_size
    return cv2.HOGDescriptor((size, size), (block, block), (cell_size, cell_size), (cell_size, cell_size), n_bins)


def hog_features(faces, cell_sizes=(4, 8), n_bins=9):
    """HOG descriptors, concatenated over several cell sizes.

    Parameters
    ----------
    faces : ndarray of uint8, shape (n, s, s)
        Square grayscale faces.
    cell_sizes : tuple of int
        Cell sides in pixels; each must tile the face with 2x2-cell blocks
        (for 48 px: 4, 6, 8, 12...). Small cells see fine wrinkles, large cells
        the overall layout.
    n_bins : int
        Unsigned orientation bins over 0-180 degrees.

    Returns
    -------
    ndarray of float32, shape (n, d)
        For a 48 px face, 9 bins: 4356 values for 4 px cells, 900 for 8 px.
    """
    faces = np.asarray(faces)
    if faces.ndim != 3 or faces.shape[1] != faces.shape[2] or faces.dtype != np.uint8:
        raise ValueError(f"faces must be square uint8 (n, s, s), got {faces.dtype} {faces.shape}")
    descriptors = [hog_descriptor(faces.shape[1], c, n_bins) for c in cell_sizes]
    features = np.empty((len(faces), sum(d.getDescriptorSize() for d in descriptors)), dtype=np.float32)
    for i, face in enumerate(faces):
        features[i] = np.concatenate([d.compute(face).ravel() for d in descriptors])
    return features
