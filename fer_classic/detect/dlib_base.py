"""What dlib's two face detectors share: their parameters, a bounded scan, and dlib rectangles turned into boxes."""

from __future__ import annotations

import cv2
import numpy as np

from .base import FaceDetector
from .boxes import sort_boxes_by_size
from .defaults import MIN_SIZE
from .lazy import LazyModel


# The most pixels dlib scans, upsampling counted (each doubling quadruples them): its pyramid and HOG planes cost
# tens of bytes a pixel, and a 100-megapixel photo doubled once would need several GB.
MAX_SCAN_PIXELS = 2 ** 25


def scan_plan(shape, upsample, max_pixels=MAX_SCAN_PIXELS):
    """How to scan an image of ``shape`` within ``max_pixels``: the doublings to keep, and a scale below 1 if needed.

    Doublings are given up first; an image still too large is shrunk, so the
    smallest face found grows in proportion (on a 100-megapixel photo, from
    about 80 to about 140 px).

    Returns
    -------
    upsample : int
    scale : float
        1.0, or the factor the image is resized by before scanning.
    """
    pixels = shape[0] * shape[1]
    while upsample > 0 and pixels * 4 ** upsample > max_pixels:
        upsample -= 1
    return upsample, min(1.0, float(np.sqrt(max_pixels / pixels))) if pixels else 1.0


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
        about four times the time. Fewer on a large image, which is scanned
        within :data:`MAX_SCAN_PIXELS` (:func:`scan_plan`).
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

    def _rectangles(self, gray, upsample):
        """dlib rectangles of the faces in a 2-D uint8 image, doubled ``upsample`` times: each detector's own scan."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _rectangles")

    def _find(self, gray):
        upsample, scale = scan_plan(gray.shape, self.upsample)
        if scale < 1:
            height, width = gray.shape
            size = (max(1, int(width * scale)), max(1, int(height * scale)))    # rounded down: within the budget
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
            scale = size[0] / width
        boxes = dlib_boxes(self._rectangles(gray, upsample))
        if scale < 1:
            boxes = np.round(boxes / scale).astype(np.int64)
        keep = (boxes[:, 2] >= self.min_size[0]) & (boxes[:, 3] >= self.min_size[1])
        return sort_boxes_by_size(boxes[keep])
