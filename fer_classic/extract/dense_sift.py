"""Phase 2, global method: dense SIFT descriptors on a grid of the aligned face.

SIFT (Lowe, 2004) describes a patch by histograms of gradient orientations in
a 4x4 grid of cells, 8 orientations each: 128 values. Instead of detecting
keypoints, dense SIFT places them on a regular grid at several patch sizes,
so every face yields the same number of descriptors at the same places
(Bosch et al., 2007). An encoding (:mod:`.bovw`, :mod:`.fisher`) then turns
the variable "bag" of descriptors into one vector per face.

OpenCV computes each descriptor's orientation histogram relative to the
keypoint's angle; with the angle fixed to 0 the descriptors are upright, as
faces are. A keypoint of OpenCV ``size`` s spans 4 cells of 1.5 s pixels
each, so a patch of P pixels is a keypoint of size P / 6. Its descriptors
are integers in [0, 255], so they are stored as uint8 without loss.

References
----------
.. [1] D. Lowe, "Distinctive image features from scale-invariant keypoints",
       IJCV 60(2), 2004.
.. [2] A. Bosch, A. Zisserman and X. Munoz, "Image classification using
       random forests and ferns", ICCV 2007.
"""

from __future__ import annotations

import cv2
import numpy as np

DESCRIPTOR_SIZE = 128
PATCH_PER_KEYPOINT_SIZE = 6  # 4 cells of 3 * (size / 2) pixels


def dense_grid(face_size, step=6, patch_sizes=(12, 18)):
    """Keypoint centres and patch sizes of the dense grid.

    Parameters
    ----------
    face_size : int
        Side of the (square) face in pixels.
    step : int
        Distance between neighbouring centres, in pixels.
    patch_sizes : tuple of int
        Sides of the square patches described, in pixels; every centre gets
        one keypoint per size.

    Returns
    -------
    ndarray of float32, shape (k, 3)
        ``(x, y, patch side)`` per keypoint, sizes outermost.
    """
    if step <= 0 or not patch_sizes or min(patch_sizes) <= 0:
        raise ValueError(f"step and patch sizes must be positive, got {step} and {patch_sizes}")
    margin = step // 2
    centres = np.arange(margin, face_size - margin + 1, step, dtype=np.float32)
    ys, xs = np.meshgrid(centres, centres, indexing="ij")
    return np.concatenate([np.column_stack([xs.ravel(), ys.ravel(), np.full(xs.size, size, np.float32)])
                           for size in patch_sizes])


def dense_sift(faces, step=6, patch_sizes=(12, 18)):
    """SIFT descriptors on a dense grid of each face.

    Parameters
    ----------
    faces : ndarray of uint8, shape (n, s, s)
    step, patch_sizes
        See :func:`dense_grid`.

    Returns
    -------
    ndarray of uint8, shape (n, k, 128)
        ``k = len(dense_grid(s, step, patch_sizes))`` descriptors per face,
        in the grid's order.
    """
    faces = np.asarray(faces)
    if faces.ndim != 3 or faces.dtype != np.uint8 or faces.shape[1] != faces.shape[2]:
        raise ValueError(f"faces must be uint8 (n, s, s), got {faces.dtype} {faces.shape}")
    grid = dense_grid(faces.shape[1], step, patch_sizes)
    keypoints = [cv2.KeyPoint(float(x), float(y), float(side) / PATCH_PER_KEYPOINT_SIZE, 0.0) for x, y, side in grid]
    sift = cv2.SIFT_create(nOctaveLayers=1)  # descriptors read only the first layer; fewer layers, same output
    out = np.empty((len(faces), len(grid), DESCRIPTOR_SIZE), dtype=np.uint8)
    for i, face in enumerate(faces):
        found, descriptors = sift.compute(np.ascontiguousarray(face), keypoints)
        if len(found) != len(keypoints):  # OpenCV drops keypoints too near the border; the grid keeps clear
            raise RuntimeError(f"SIFT kept {len(found)} of {len(keypoints)} dense keypoints; use a smaller grid")
        out[i] = np.clip(np.rint(descriptors), 0, 255)
    return out
