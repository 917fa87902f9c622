"""Phase 1, detection: dlib's HOG face detector.

A window of histograms of oriented gradients (HOG, Dalal and Triggs) slides
over an image pyramid and a linear SVM scores it. dlib's
``get_frontal_face_detector`` holds five such filters (frontal, turned left,
turned right, and frontal tilted either way), trained by max-margin object
detection on labelled photos. Its window is 80x80 pixels: smaller faces are
found only when the image is upsampled first, which costs about four times
the time per doubling.

References
----------
.. [1] N. Dalal and B. Triggs, "Histograms of oriented gradients for human
       detection", CVPR 2005.
.. [2] D. E. King, "Max-margin object detection", arXiv:1502.00046, 2015.
"""

from __future__ import annotations

import numpy as np

from .base import FaceDetector
from .boxes import sort_boxes_by_size
from .lazy import LazyModel


def dlib_boxes(rectangles):
    """dlib rectangles as boxes (x, y, w, h), shape (n, 4) int64, in the order given."""
    return np.array([[r.left(), r.top(), r.width(), r.height()] for r in rectangles], dtype=np.int64).reshape(-1, 4)


class DlibHogDetector(LazyModel, FaceDetector):
    """Detect faces with dlib's HOG + linear SVM detector; its boxes may reach past the image's edges.

    Parameters
    ----------
    upsample : int
        Times the image is doubled before scanning (>= 0): 0 finds faces of
        about 80 px and more, 1 of about 40 px and more.
    threshold : float
        Score a window needs; dlib's own default is 0, higher is stricter.
    min_size : (int, int)
        Boxes smaller than this ``(w, h)`` are dropped.
    color_order : {"bgr", "rgb"}
        Channel order of color images passed to :meth:`detect`.
    """

    def __init__(self, upsample=1, threshold=0.0, min_size=(30, 30), color_order="bgr"):
        if upsample < 0:
            raise ValueError(f"upsample must be >= 0, got {upsample}")
        self.upsample = upsample
        self.threshold = threshold
        self.min_size = min_size
        self.color_order = color_order

    def _load(self):
        import dlib

        return dlib.get_frontal_face_detector()

    def _find(self, gray):
        rectangles, _, _ = self._model().run(gray, self.upsample, self.threshold)
        boxes = dlib_boxes(rectangles)
        return sort_boxes_by_size(boxes[(boxes[:, 2] >= self.min_size[0]) & (boxes[:, 3] >= self.min_size[1])])
