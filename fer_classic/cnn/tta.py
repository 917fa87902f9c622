"""Test-time augmentation: classify several views of each face and average.

``"flip"`` adds the mirror image. ``"ten-crop"`` takes the four corner crops
and the centre crop (``crop`` pixels square), resized back to the input size,
plus the mirror of each [1]_.

References
----------
.. [1] A. Krizhevsky, I. Sutskever and G. Hinton, "ImageNet Classification
   with Deep Convolutional Neural Networks", NeurIPS 2012, section 4.1.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..faces import mirror_faces

TTA_MODES = ("none", "flip", "ten-crop")


def test_time_views(faces, mode="flip", crop=42):
    """The views of each face that ``mode`` classifies.

    Parameters
    ----------
    faces : ndarray of uint8, shape (n, s, s)
    mode : {"none", "flip", "ten-crop"}
    crop : int
        Side of the ten-crop crops, in pixels (< s).

    Returns
    -------
    list of ndarray of uint8, each shape (n, s, s)
        1, 2 or 10 views; average the predictions over them.
    """
    if mode not in TTA_MODES:
        raise ValueError(f"unknown test-time augmentation {mode!r}; choose from {', '.join(TTA_MODES)}")
    faces = np.asarray(faces)
    if mode == "none":
        return [faces]
    if mode == "flip":
        return [faces, mirror_faces(faces)]
    n, h, w = faces.shape
    if not 0 < crop < min(h, w):
        raise ValueError(f"crop must be between 1 and {min(h, w) - 1}, got {crop}")
    corners = [(0, 0), (0, w - crop), (h - crop, 0), (h - crop, w - crop), ((h - crop) // 2, (w - crop) // 2)]
    views = []
    for y, x in corners:
        view = np.stack([cv2.resize(np.ascontiguousarray(face[y:y + crop, x:x + crop]), (w, h),
                                    interpolation=cv2.INTER_LINEAR) for face in faces]) if n else faces
        views += [view, mirror_faces(view)]
    return views
