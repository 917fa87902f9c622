"""Phase 1, detection: faces in profile, looking either way.

OpenCV's profile cascade was trained on faces turned to one side only. Run on
the image and on its mirror image, it finds faces turned either way; boxes
found on the mirror are mirrored back, and a face found in both is kept once.
"""

from __future__ import annotations

import numpy as np

from .base import FaceDetector
from .boxes import drop_duplicates
from .defaults import MIN_NEIGHBORS, MIN_SIZE, SCALE_FACTOR
from .haar import HaarCascadeDetector


def mirror_boxes(boxes, width):
    """Boxes (x, y, w, h) found in an image mirrored left-right, in the image's own coordinates.

    Parameters
    ----------
    boxes : array_like, shape (n, 4)
    width : int
        The image's width in pixels.

    Returns
    -------
    ndarray of int64, shape (n, 4)
    """
    boxes = np.array(boxes, dtype=np.int64).reshape(-1, 4)
    boxes[:, 0] = width - boxes[:, 0] - boxes[:, 2]
    return boxes


class ProfileDetector(FaceDetector):
    """OpenCV's profile-face cascade on an image and its mirror image.

    Parameters
    ----------
    scale_factor, min_neighbors, min_size
        See :class:`~fer_classic.detect.HaarCascadeDetector`.
    max_iou : float
        Overlap above which two boxes are one face.
    color_order : {"bgr", "rgb"}
        Channel order of color images passed to :meth:`detect`.
    """

    def __init__(self, scale_factor=SCALE_FACTOR, min_neighbors=MIN_NEIGHBORS, min_size=(MIN_SIZE, MIN_SIZE),
                 max_iou=0.3, color_order="bgr"):
        self.cascade = HaarCascadeDetector("profile", scale_factor, min_neighbors, min_size)
        self.max_iou = max_iou
        self.color_order = color_order

    def _find(self, gray):
        turned_one_way = self.cascade.detect(gray)
        turned_other_way = mirror_boxes(self.cascade.detect(np.ascontiguousarray(gray[:, ::-1])), gray.shape[1])
        return drop_duplicates(np.concatenate([turned_one_way, turned_other_way]), self.max_iou)
