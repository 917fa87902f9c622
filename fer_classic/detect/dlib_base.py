"""What dlib's two face detectors share: their parameters, and dlib rectangles turned into boxes."""

from __future__ import annotations

import numpy as np

from .base import FaceDetector
from .boxes import sort_boxes_by_size
from .defaults import MIN_SIZE
from .lazy import LazyModel


def dlib_boxes(rectangles):
    """dlib rectangles as boxes (x, y, w, h), shape (n, 4) int64, in the order given."""
    return np.array([[r.left(), r.top(), r.width(), r.height()] for r in rectangles], dtype=np.int64).reshape(-1, 4)


class DlibDetector(LazyModel, FaceDetector):
    """Base of dlib's detectors: a subclass's ``_rectangles`` scans, this class drops small boxes and sorts.

    Boxes may reach past the image's edges.

    Parameters
    ----------
    upsample : int
        Times the image is doubled before scanning (>= 0): 0 finds faces of
        about 80 px and more, 1 of about 40 px and more; each doubling costs
        about four times the time.
    threshold : float
        Score a detection needs; 0 is dlib's own cut, higher is stricter.
    min_size : (int, int)
        Boxes smaller than this ``(w, h)`` are dropped.
    color_order : {"bgr", "rgb"}
        Channel order of color images passed to :meth:`detect`.
    """

    def __init__(self, upsample, threshold=0.0, min_size=(MIN_SIZE, MIN_SIZE), color_order="bgr"):
        if upsample < 0:
            raise ValueError(f"upsample must be >= 0, got {upsample}")
        self.upsample = upsample
        self.threshold = threshold
        self.min_size = min_size
        self.color_order = color_order

    def _rectangles(self, gray):
        """dlib rectangles of the faces in a 2-D uint8 image: each detector's own scan."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _rectangles")

    def _find(self, gray):
        boxes = dlib_boxes(self._rectangles(gray))
        keep = (boxes[:, 2] >= self.min_size[0]) & (boxes[:, 3] >= self.min_size[1])
        return sort_boxes_by_size(boxes[keep])
